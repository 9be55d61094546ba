import type { AnyEnvelope } from '@agentwire/protocol';
import { decodeTrace } from './codec.js';

/** One commit as announced on the channel by the append script (see `APPEND`). */
export interface Announcement {
  node: string;
  stream: string;
  first: number;
  last: number;
  /**
   * The committed events, first..last, when they were small enough to travel with the
   * announcement; otherwise whoever needs them reads the range from the log.
   */
  events?: AnyEnvelope[];
}

const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

/**
 * Parses an announcement: `[node, stream, first, last, epoch]`, then optionally a newline and the
 * events as `[[seq, id, type, time, data, trace], …]`. It comes from Redis, where anyone with
 * access may publish, so every field is checked. A header that does not parse is no announcement
 * (the next commit of its stream fills the gap); events that do not parse are dropped, and the
 * range is read from the log as for an announcement too large to carry them.
 */
export function parseAnnouncement(message: string): Announcement | undefined {
  const cut = message.indexOf('\n');
  const header = parseJson(cut < 0 ? message : message.slice(0, cut));
  if (!Array.isArray(header) || header.length < 4) return undefined;
  const [node, stream, first, last, epoch] = header as unknown[];
  if (typeof node !== 'string' || typeof stream !== 'string') return undefined;
  if (!isSeq(first) || !isSeq(last) || last < first) return undefined;
  const announcement: Announcement = { node, stream, first, last };
  if (cut >= 0 && typeof epoch === 'string') {
    const events = parseEvents(parseJson(message.slice(cut + 1)), stream, epoch, first, last);
    if (events) announcement.events = events;
  }
  return announcement;
}

function parseEvents(
  items: unknown,
  stream: string,
  epoch: string,
  first: number,
  last: number,
): AnyEnvelope[] | undefined {
  if (!Array.isArray(items) || items.length !== last - first + 1) return undefined;
  const events: AnyEnvelope[] = [];
  for (const [i, item] of items.entries()) {
    if (!Array.isArray(item) || item.length !== 6) return undefined;
    const [seq, id, type, time, data, trace] = item as unknown[];
    if (seq !== first + i || typeof id !== 'string' || typeof type !== 'string') return undefined;
    if (typeof time !== 'number' || !Number.isFinite(time)) return undefined;
    if (trace !== null && typeof trace !== 'string') return undefined;
    // The same shape `makeEnvelope` gives an event read back from the log.
    const envelope = { stream, seq, epoch, id, type, time, data } as AnyEnvelope;
    const context = decodeTrace(trace);
    if (context) envelope.trace = context;
    events.push(envelope);
  }
  return events;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
