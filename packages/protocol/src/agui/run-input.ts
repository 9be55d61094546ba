import { Type, type Static } from '@sinclair/typebox';
import { AgentwireError } from '../errors.js';
import { assertSchema } from '../validate.js';
import { AgUiMessage, agUiEventSchemas, isAgUiEventType, type AgUiEvent } from './events.js';

const Str = Type.String();

/** An answer to an interrupt that ended an earlier run: `resolved` with a payload, or `cancelled`. */
export const AgUiResumeEntry = Type.Object({
  interruptId: Type.String({ minLength: 1 }),
  status: Type.Union([Type.Literal('resolved'), Type.Literal('cancelled')]),
  payload: Type.Optional(Type.Unknown()),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type AgUiResumeEntry = Static<typeof AgUiResumeEntry>;

/**
 * AG-UI's request to run an agent (`RunAgentInput`): the body `HttpAgent` posts. Only `threadId`,
 * `runId` and `messages` are required on the wire, as in the 1.0 specification.
 */
export const AgUiRunInput = Type.Object({
  threadId: Type.String({ minLength: 1 }),
  runId: Type.String({ minLength: 1 }),
  protocolVersion: Type.Optional(Str),
  parentRunId: Type.Optional(Str),
  state: Type.Optional(Type.Unknown()),
  messages: Type.Array(AgUiMessage),
  tools: Type.Optional(
    Type.Array(Type.Object({ name: Str, description: Str, parameters: Type.Optional(Type.Unknown()) })),
  ),
  context: Type.Optional(Type.Array(Type.Object({ description: Str, value: Str }))),
  forwardedProps: Type.Optional(Type.Unknown()),
  resume: Type.Optional(Type.Array(AgUiResumeEntry)),
});
export type AgUiRunInput = Static<typeof AgUiRunInput>;

/** Parses a `RunAgentInput`, throwing `invalid_message` naming the first offending field. */
export function parseAgUiRunInput(value: unknown): AgUiRunInput {
  assertSchema(AgUiRunInput, value, 'invalid_message', 'Invalid RunAgentInput');
  return value as AgUiRunInput;
}

/**
 * Parses one AG-UI event. An event of a type this build does not know (a newer protocol) returns
 * undefined, so a consumer can skip it; a known type with bad fields throws `invalid_message`.
 */
export function parseAgUiEvent(value: unknown): AgUiEvent | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AgentwireError('invalid_message', 'An AG-UI event must be a JSON object.');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || type === '') {
    throw new AgentwireError('invalid_message', 'An AG-UI event needs a string type.', { path: '/type' });
  }
  if (!isAgUiEventType(type)) return undefined;
  assertSchema(agUiEventSchemas[type], value, 'invalid_message', `Invalid AG-UI ${type} event`);
  return value as AgUiEvent;
}

/** The text of an AG-UI message's content: a string, or its text parts joined by newlines. */
export function agUiText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text'
        ? String((part as { text?: unknown }).text ?? '')
        : '',
    )
    .filter((text) => text !== '')
    .join('\n');
}
