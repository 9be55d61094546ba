import { AgentwireError } from './errors.js';

/**
 * A stream is the unit of ordering and subscription. Names are `kind:id` (`task:42`, `project:acme`)
 * or a bare reserved name (`system`). The charset is conservative so names survive URLs, Redis keys,
 * AMQP routing keys and file names without escaping.
 */
export const STREAM_NAME_PATTERN = '^(?:system|[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9][A-Za-z0-9._~-]{0,127})$';
const streamName = new RegExp(STREAM_NAME_PATTERN);

export const MAX_STREAM_NAME_LENGTH = 161;

export function isStreamName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_STREAM_NAME_LENGTH && streamName.test(value);
}

export function assertStreamName(value: unknown): string {
  if (!isStreamName(value)) {
    throw new AgentwireError(
      'invalid_stream',
      `Invalid stream name ${JSON.stringify(String(value).slice(0, 80))}: use kind:id, e.g. task:42.`,
    );
  }
  return value;
}

export const taskStream = (taskId: string): string => `task:${taskId}`;
export const projectStream = (projectId: string): string => `project:${projectId}`;
export const SYSTEM_STREAM = 'system';

/** The task id of a `task:<id>` stream, or undefined for any other stream. */
export function taskIdOf(stream: string): string | undefined {
  return stream.startsWith('task:') ? stream.slice(5) : undefined;
}
