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

/** The kind prefix of a task's stream: `task:<taskId>`. */
export const TASK_STREAM_PREFIX = 'task:';
/** The kind prefix of a project's stream: `project:<projectId>`, every event of the project's tasks. */
export const PROJECT_STREAM_PREFIX = 'project:';
export const SYSTEM_STREAM = 'system';

/** The stream of task `taskId`, unchecked: `assertStreamName` it when the id comes from outside. */
export const taskStream = (taskId: string): string => TASK_STREAM_PREFIX + taskId;
/** The stream of project `projectId`, unchecked like `taskStream`. */
export const projectStream = (projectId: string): string => PROJECT_STREAM_PREFIX + projectId;

/** The task id of a `task:<id>` stream, or undefined for any other stream. */
export function taskIdOf(stream: string): string | undefined {
  return stream.startsWith(TASK_STREAM_PREFIX) ? stream.slice(TASK_STREAM_PREFIX.length) : undefined;
}

/** The project id of a `project:<id>` stream, or undefined for any other stream. */
export function projectIdOf(stream: string): string | undefined {
  return stream.startsWith(PROJECT_STREAM_PREFIX) ? stream.slice(PROJECT_STREAM_PREFIX.length) : undefined;
}
