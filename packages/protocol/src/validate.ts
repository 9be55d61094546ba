import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { catalog, isEventType, type EventType } from './catalog.js';
import {
  AnswerCommand,
  CancelCommand,
  CommandSchema,
  MessageCommand,
  StartCommand,
  type Command,
  type CommandType,
} from './commands.js';
import {
  EnvelopeSchema,
  EventInputSchema,
  SinceSchema,
  type AnyEnvelope,
  type AnyEventInput,
  type Since,
} from './envelope.js';
import { HTTP_ANSWER_REFS } from './http-answers.js';
import { isStreamName } from './streams.js';
import { AgentwireError, type ErrorCode } from './errors.js';
import {
  AuthOp,
  clientOpNames,
  CommandOp,
  PingOp,
  ServerOpSchema,
  SubscribeOp,
  UnsubscribeOp,
  UnwatchTasksOp,
  WatchTasksOp,
  type ClientOp,
  type ServerOp,
} from './wire.js';

const compiled = new Map<TSchema, TypeCheck<TSchema>>();

function checker<T extends TSchema>(schema: T, refs: TSchema[] = []): TypeCheck<T> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema, refs);
    compiled.set(schema, check);
  }
  return check as TypeCheck<T>;
}

/**
 * Compiles validators ahead of their first use. Compiling takes milliseconds per schema; a
 * latency-sensitive path (a producer receiving its first cancel) should not pay for it then.
 */
export function precompile(schemas: readonly TSchema[]): void {
  for (const schema of schemas) checker(schema);
}

/** Validates `value` against `schema`, throwing a typed error naming the first offending path. */
export function assertSchema<T extends TSchema>(
  schema: T,
  value: unknown,
  code: ErrorCode,
  what: string,
  refs?: TSchema[],
): void {
  assertAt(schema, value, code, what, '', refs);
}

/** `assertSchema` for a value found at `at` inside a larger message, so the error path names it. */
function assertAt(
  schema: TSchema,
  value: unknown,
  code: ErrorCode,
  what: string,
  at: string,
  refs?: TSchema[],
): void {
  const check = checker(schema, refs);
  if (check.Check(value)) return;
  const first = check.Errors(value).First();
  const where = at + (first?.path ?? '') || '/';
  throw new AgentwireError(code, `${what}: ${first?.message ?? 'invalid'} at ${where}`, { path: where });
}

/**
 * Names a value for an error message without serializing it: a hostile value (absurdly nested,
 * huge) must not make the error itself fail.
 */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 64));
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

// The unions accept exactly what these accept; validating against the one named by the message's
// own `op` or `type` makes errors point at the offending field instead of "Expected union value".
const clientOpSchemas = {
  subscribe: SubscribeOp,
  unsubscribe: UnsubscribeOp,
  command: CommandOp,
  ping: PingOp,
  auth: AuthOp,
  watch_tasks: WatchTasksOp,
  unwatch_tasks: UnwatchTasksOp,
} satisfies Record<ClientOp['op'], TSchema>;
const commandSchemas = {
  cancel: CancelCommand,
  answer: AnswerCommand,
  message: MessageCommand,
  start: StartCommand,
} satisfies Record<CommandType, TSchema>;

/** Parses text as JSON, mapping failures (including absurd nesting) to `bad_json`. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AgentwireError('bad_json', `Invalid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}

export function isEventDataValid(type: EventType, data: unknown): boolean {
  return checker(catalog[type]).Check(data);
}

/** Validates a producer's event: known type, data matching the catalog. */
export function parseEventInput(value: unknown): AnyEventInput {
  assertSchema(EventInputSchema, value, 'invalid_message', 'Invalid event');
  const input = value as { id?: string; type: string; data: unknown };
  if (!isEventType(input.type)) {
    throw new AgentwireError('unknown_event_type', `Unknown event type ${JSON.stringify(input.type)}.`, {
      type: input.type,
    });
  }
  assertSchema(catalog[input.type], input.data, 'invalid_payload', `Invalid data for ${input.type}`);
  return input as AnyEventInput;
}

export function parseEnvelope(value: unknown): AnyEnvelope {
  assertSchema(EnvelopeSchema, value, 'invalid_message', 'Invalid envelope');
  const e = value as { type: string };
  if (!isEventType(e.type)) throw new AgentwireError('unknown_event_type', `Unknown event type ${e.type}.`);
  return value as AnyEnvelope;
}

export function parseSince(value: unknown): Since {
  assertSchema(SinceSchema, value, 'invalid_since', 'Invalid since');
  return value as Since;
}

export function parseCommand(value: unknown): Command {
  assertCommand(value, '');
  return value as Command;
}

function assertCommand(value: unknown, at: string): void {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (typeof type === 'string' && Object.hasOwn(commandSchemas, type)) {
    assertAt(commandSchemas[type as CommandType], value, 'invalid_message', 'Invalid command', at);
    return;
  }
  if (type !== undefined) {
    const where = `${at}/type`;
    throw new AgentwireError('invalid_message', `Unknown command type ${describe(type)} at ${where}`, {
      path: where,
    });
  }
  assertAt(CommandSchema, value, 'invalid_message', 'Invalid command', at);
}

/** Parses one client frame of the native protocol. */
export function parseClientOp(text: string): ClientOp {
  const value = parseJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AgentwireError('invalid_message', 'A message must be a JSON object with an "op".');
  }
  const op = (value as { op?: unknown }).op;
  if (!clientOpNames.includes(op as never)) {
    throw new AgentwireError('unknown_op', `Unknown op ${describe(op)}.`);
  }
  const name = op as ClientOp['op'];
  // A bad stream name is the same refusal on every transport: HTTP answers invalid_stream too.
  if (
    (name === 'subscribe' || name === 'unsubscribe') &&
    !isStreamName((value as { stream?: unknown }).stream)
  ) {
    throw new AgentwireError('invalid_stream', 'Invalid stream name at /stream: use kind:id, e.g. task:42.', {
      path: '/stream',
    });
  }
  if (name === 'subscribe' && 'since' in value) {
    assertAt(SinceSchema, (value as { since?: unknown }).since, 'invalid_since', 'Invalid since', '/since');
  }
  if (name === 'command' && 'command' in value) {
    assertCommand((value as { command?: unknown }).command, '/command');
  }
  assertSchema(clientOpSchemas[name], value, 'invalid_message', `Invalid ${name}`);
  return value as ClientOp;
}

/** Parses one server frame; clients call this at their boundary. */
export function parseServerOp(text: string): ServerOp {
  const value = parseJson(text);
  assertSchema(ServerOpSchema, value, 'invalid_message', 'Invalid server message', [EnvelopeSchema]);
  return value as ServerOp;
}

/**
 * Why `value` is not a valid HTTP answer of `schema` (one of `httpAnswerSchemas`): the first
 * offending path and what is wrong there, or undefined when it is valid.
 */
export function httpAnswerIssue(schema: TSchema, value: unknown): string | undefined {
  const check = checker(schema, HTTP_ANSWER_REFS);
  if (check.Check(value)) return undefined;
  const first = check.Errors(value).First();
  return `${first?.message ?? 'invalid'} at ${first?.path || '/'}`;
}

/** Whether `value` is a valid HTTP answer of `schema`, narrowed to its type. */
export function isHttpAnswer<T>(schema: TSchema, value: unknown): value is T {
  return httpAnswerIssue(schema, value) === undefined;
}
