import type { Static, TSchema } from '@sinclair/typebox';
import { agentEvents } from './events/agent.js';
import { customEvents } from './events/custom.js';
import { logEvents } from './events/log.js';
import { memoryEvents } from './events/memory.js';
import { messageEvents } from './events/message.js';
import { projectEvents } from './events/project.js';
import { questionEvents } from './events/question.js';
import { systemEvents } from './events/system.js';
import { taskEvents } from './events/task.js';
import { toolEvents } from './events/tool.js';

/**
 * The canonical event catalog: every event type agentwire carries, with the schema of its `data`.
 * Names follow `noun:verb`. Adding a type here is the only way to make it publishable; dialects map
 * from these names, so a listener for a name that does not exist fails to compile.
 */
export const catalog = {
  ...taskEvents,
  ...agentEvents,
  ...toolEvents,
  ...messageEvents,
  ...memoryEvents,
  ...logEvents,
  ...questionEvents,
  ...customEvents,
  ...systemEvents,
  ...projectEvents,
} satisfies Record<string, TSchema>;

export type Catalog = typeof catalog;
export type EventType = keyof Catalog;
export type EventData<T extends EventType = EventType> = Static<Catalog[T]>;
/** Maps each event type to its data, for typed handler maps (`on('tool:executing', d => d.tool)`). */
export type EventDataMap = { [T in EventType]: Static<Catalog[T]> };

export const eventTypes = Object.keys(catalog) as EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(catalog, value);
}
