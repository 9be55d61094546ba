import { randomBytes } from 'node:crypto';
import { AgentwireError, type AnyEnvelope, type TraceContext } from '@agentwire/protocol';
import type { AppendInput } from './engine.js';

/**
 * A new epoch id. 96 random bits: two histories must never share an epoch, or a client could
 * "resume" into a log that is not the one it was reading.
 */
export function newEpoch(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Serializes event data once, at append time, so a bad payload fails only its own append (never
 * a group-commit batch) and a caller mutating its object afterwards cannot change what was logged.
 * Every engine stores JSON text, so all engines hand back exactly what a JSON round-trip gives.
 */
export function encodeData(data: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    throw new AgentwireError('invalid_payload', `Event data is not serializable: ${(err as Error).message}`);
  }
  // undefined, functions and symbols have no JSON form; the log stores them as null.
  return json ?? 'null';
}

/** The stored text of each input: what ingest encoded, or `data` encoded now. */
export function encodeInputs(inputs: readonly AppendInput[]): string[] {
  return inputs.map((input) => input.json ?? encodeData(input.data));
}

/**
 * The envelope of a just-appended input. Its data is the input's own when ingest handed the log
 * ownership of it (see `AppendInput.json`), otherwise a copy parsed from the stored text.
 */
export function appendedEnvelope(
  stream: string,
  epoch: string,
  seq: number,
  input: AppendInput,
  json: string,
): AnyEnvelope {
  if (input.json === undefined)
    return makeEnvelope(stream, epoch, seq, input.id, input.type, input.time, json, input.trace);
  const { id, type, time, data, trace } = input;
  const envelope = { stream, seq, epoch, id, type, time, data } as AnyEnvelope;
  if (trace) envelope.trace = trace;
  return envelope;
}

export function makeEnvelope(
  stream: string,
  epoch: string,
  seq: number,
  id: string,
  type: string,
  time: number,
  json: string,
  trace?: TraceContext,
): AnyEnvelope {
  // The log stores any type ingest accepted; the catalog narrowing is the reader's business.
  const envelope = { stream, seq, epoch, id, type, time, data: JSON.parse(json) as unknown } as AnyEnvelope;
  // Absent rather than undefined: envelopes without one serialize and compare as before.
  if (trace) envelope.trace = trace;
  return envelope;
}

/**
 * A trace context in one stored string: the traceparent, then the tracestate after a newline (a
 * character neither may contain), so engines keep it in one column or field.
 */
export function encodeTrace(trace: TraceContext | undefined): string | undefined {
  if (!trace) return undefined;
  return trace.tracestate === undefined ? trace.traceparent : `${trace.traceparent}\n${trace.tracestate}`;
}

export function decodeTrace(stored: string | null | undefined): TraceContext | undefined {
  if (!stored) return undefined;
  const cut = stored.indexOf('\n');
  return cut < 0
    ? { traceparent: stored }
    : { traceparent: stored.slice(0, cut), tracestate: stored.slice(cut + 1) };
}

export function closedError(kind: string): AgentwireError {
  return new AgentwireError('unavailable', `The ${kind} log is closed.`);
}

/** Normalizes a caller's read bounds: negative positions mean "from the start". */
export function readBounds(afterSeq: number, limit: number): { after: number; limit: number } {
  const after = Number.isFinite(afterSeq) && afterSeq > 0 ? Math.floor(afterSeq) : 0;
  const max = Number.isFinite(limit) && limit > 0 ? Math.floor(limit) : 0;
  return { after, limit: max };
}
