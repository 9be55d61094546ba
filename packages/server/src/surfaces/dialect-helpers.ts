import {
  assertSchema,
  assertStreamName,
  taskIdOf,
  taskStream,
  type AgentState,
  type AgentwireError,
  type AnyEnvelope,
  type TaskState,
} from '@agentwire/protocol';
import type { TSchema } from '@sinclair/typebox';
import type { Emit, Outcome } from './dialect.js';

/** Seed payloads carry ISO-8601 timestamps; envelopes carry epoch milliseconds. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The task id of an event's stream (`task:42` → `42`), or the stream itself for other streams. */
export function taskIdFor(e: Pick<AnyEnvelope, 'stream'>): string {
  return taskIdOf(e.stream) ?? e.stream;
}

/** An agent's name and model from the task state; the id stands in for a name we never saw. */
export function agentOf(
  state: TaskState | null,
  agentId: string | undefined,
): Pick<AgentState, 'name'> & { model: string | null } {
  if (agentId === undefined) return { name: '', model: null };
  const agent = state?.agents[agentId];
  return { name: agent?.name ?? agentId, model: agent?.model ?? null };
}

/** `task:<id>` for a client-supplied id, refused with `invalid_stream` when it cannot name a stream. */
export function taskStreamFor(id: string): string {
  return assertStreamName(taskStream(id));
}

/** Validates a client payload at the boundary: anything that does not match is `invalid_message`. */
export function parsePayload<T>(schema: TSchema, value: unknown, what: string): T {
  assertSchema(schema, value, 'invalid_message', `Invalid ${what}`);
  return value as T;
}

export function errorBody(err: AgentwireError): { code: string; message: string; details?: unknown } {
  return err.details === undefined
    ? { code: err.code, message: err.message }
    : { code: err.code, message: err.message, details: err.details };
}

/**
 * The acknowledgement every seed dialect sends: `{ok: true, …}` or `{ok: false, error: {code,
 * message}}`. The seeds' servers documented no ack shape, so ours is one stable shape for all.
 */
export function seedReply(outcome: Outcome): unknown {
  switch (outcome.kind) {
    case 'subscribed':
      return outcome.result
        ? {
            ok: true,
            room: outcome.stream,
            stream: outcome.stream,
            epoch: outcome.result.epoch,
            seq: outcome.result.seq,
            recovered: outcome.result.recovered,
          }
        : { ok: true, room: outcome.stream, stream: outcome.stream };
    case 'unsubscribed':
      return { ok: true, room: outcome.stream, stream: outcome.stream };
    case 'command':
      return { ok: true, result: outcome.result ?? null };
    case 'joined':
    case 'left':
      return { ok: true, room: outcome.room };
    case 'none':
      return { ok: true };
    case 'error':
      return { ok: false, error: errorBody(outcome.error) };
  }
}

/** The typed error event seed dialects emit when a refused message had no ack callback. */
export function seedError(err: AgentwireError, event: string): Emit {
  return { event: 'error', payload: { ...errorBody(err), event } };
}

/** Drops undefined fields so payloads keep one shape after Socket.IO's JSON encoding. */
export function compact<T extends Record<string, unknown>>(fields: T): T {
  for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
  return fields;
}
