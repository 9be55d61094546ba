import { AgentwireError, assertStreamName, parseSince, type Since } from '@agentwire/protocol';

/**
 * Path and query parsing shared by the per-stream HTTP transports (SSE, long-polling). Every bad
 * value becomes a typed error from the registry; nothing here throws anything else.
 */

/** The decoded, validated stream of `/v1/streams/{stream}/{leaf}`, or undefined for any other path. */
export function matchStreamRoute(pathname: string, leaf: string): string | undefined {
  const parts = pathname.split('/');
  // ['', 'v1', 'streams', '{stream}', leaf]
  if (parts.length !== 5 || parts[1] !== 'v1' || parts[2] !== 'streams' || parts[4] !== leaf)
    return undefined;
  return parts[3] ?? '';
}

export function decodeStream(raw: string): string {
  let stream: string;
  try {
    stream = decodeURIComponent(raw);
  } catch {
    throw new AgentwireError('invalid_stream', 'The stream name is not valid percent-encoding.');
  }
  return assertStreamName(stream);
}

export function assertGet(method: string | undefined): void {
  if ((method ?? 'GET') !== 'GET') throw new AgentwireError('method_not_allowed', 'Use GET.');
}

/**
 * A seq from a query parameter or header; `what` names it in the error. The same bound as the
 * protocol's `since` (2^53 - 1) on every route, so no position is accepted here and refused there.
 */
function seqValue(raw: string, what: string): number {
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new AgentwireError(
      'invalid_since',
      `${what} must be an integer seq from 0 to ${Number.MAX_SAFE_INTEGER}.`,
      { value: raw.slice(0, 32) },
    );
  }
  return value;
}

/** An optional seq query parameter (`after`), undefined when absent. */
export function seqParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  return seqValue(raw, `Query parameter ${name}`);
}

/**
 * A resume position from a seq (query or `Last-Event-ID`) and an optional epoch. Validated with the
 * protocol's own `parseSince`, so HTTP and WebSocket accept exactly the same positions.
 */
export function sinceFrom(seq: string | undefined, epoch: string | null, what: string): Since | undefined {
  if (seq === undefined) return undefined;
  const value: Since = { seq: seqValue(seq.trim(), what) };
  if (epoch !== null) value.epoch = epoch;
  return parseSince(value);
}

/** `1`/`true` are on, absent/`0`/`false` off; anything else is refused rather than guessed. */
export function flagParam(url: URL, name: string): boolean {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new AgentwireError('invalid_message', `Query parameter ${name} must be 1 or 0.`);
}

/**
 * A positive integer query parameter (`limit`) clamped to `max`, or `fallback` when absent. 0 is
 * refused, never read as "1" or "all", on every route.
 */
export function countParam(url: URL, name: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) < 1) {
    throw new AgentwireError('invalid_message', `Query parameter ${name} must be a positive integer.`);
  }
  return Math.min(Number(raw), max);
}

/** A duration in (possibly fractional) seconds, returned in ms and clamped to `maxMs`. */
export function secondsParam(url: URL, name: string, fallbackMs: number, maxMs: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return Math.min(fallbackMs, maxMs);
  if (!/^\d{1,9}(?:\.\d{1,3})?$/.test(raw)) {
    throw new AgentwireError('invalid_message', `Query parameter ${name} must be a number of seconds.`);
  }
  return Math.min(Math.round(Number(raw) * 1000), maxMs);
}
