import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { catalog, isEventType, type EventType } from './catalog.js';
import { CommandSchema, type Command } from './commands.js';
import {
  EnvelopeSchema,
  EventInputSchema,
  SinceSchema,
  type AnyEnvelope,
  type AnyEventInput,
  type Since,
} from './envelope.js';
import { AgentwireError, type ErrorCode } from './errors.js';
import { ClientOpSchema, clientOpNames, ServerOpSchema, type ClientOp, type ServerOp } from './wire.js';

const compiled = new Map<TSchema, TypeCheck<TSchema>>();

function checker<T extends TSchema>(schema: T, refs: TSchema[] = []): TypeCheck<T> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema, refs);
    compiled.set(schema, check);
  }
  return check as TypeCheck<T>;
}

/** Validates `value` against `schema`, throwing a typed error naming the first offending path. */
export function assertSchema<T extends TSchema>(
  schema: T,
  value: unknown,
  code: ErrorCode,
  what: string,
  refs?: TSchema[],
): void {
  const check = checker(schema, refs);
  if (check.Check(value)) return;
  const first = check.Errors(value).First();
  const where = first?.path || '/';
  throw new AgentwireError(code, `${what}: ${first?.message ?? 'invalid'} at ${where}`, { path: where });
}

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
  assertSchema(CommandSchema, value, 'invalid_message', 'Invalid command');
  return value as Command;
}

/** Parses one client frame of the native protocol. */
export function parseClientOp(text: string): ClientOp {
  const value = parseJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AgentwireError('invalid_message', 'A message must be a JSON object with an "op".');
  }
  const op = (value as { op?: unknown }).op;
  if (!clientOpNames.includes(op as never)) {
    throw new AgentwireError('unknown_op', `Unknown op ${JSON.stringify(op)?.slice(0, 64) ?? 'undefined'}.`);
  }
  if (op === 'subscribe' && 'since' in value) {
    parseSince((value as { since?: unknown }).since);
  }
  assertSchema(ClientOpSchema, value, 'invalid_message', `Invalid ${String(op)}`);
  return value as ClientOp;
}

/** Parses one server frame; clients call this at their boundary. */
export function parseServerOp(text: string): ServerOp {
  const value = parseJson(text);
  assertSchema(ServerOpSchema, value, 'invalid_message', 'Invalid server message', [EnvelopeSchema]);
  return value as ServerOp;
}
