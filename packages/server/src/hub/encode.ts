import type { AnyEnvelope } from '@agentwire/protocol';
import { FifoCache } from './fifo-cache.js';

// Frame encoders for the native protocol. Envelopes are stringified once here and the resulting
// strings reused for every subscriber of the stream.
//
// The JSON of recent events is also kept, by stream, epoch and seq: within an epoch the log never
// changes an event, so the text is final. Subscribers that resume get the same events one
// subscriber at a time (a reconnect storm: thousands of them, the same hundred events each); with
// the cache each event is stringified once, not once per subscriber.

const textLength = (text: string): number => text.length;
const recent = new FifoCache<string>(4 * 1024 * 1024, textLength);

export function encodeEnvelope(event: AnyEnvelope): string {
  const key = `${event.stream}\n${event.epoch}\n${event.seq}`;
  let json = recent.get(key);
  if (json === undefined) {
    json = JSON.stringify(event);
    recent.set(key, json);
  }
  return json;
}

/**
 * The frame of events just committed, for the live fan-out: built once per commit and shared by
 * the stream's subscribers, so the per-seq cache would only cost a key and an entry per event.
 * Subscribers catching up (the ones that share JSON across many frames) go through `frameOf`.
 */
export function liveFrame(stream: string, events: readonly AnyEnvelope[]): string {
  if (events.length === 1) return eventFrame(JSON.stringify(events[0]));
  return eventsFrame(
    stream,
    events.map((e) => JSON.stringify(e)),
  );
}

export function eventFrame(json: string): string {
  return `{"op":"event","event":${json}}`;
}

export function eventsFrame(stream: string, jsons: readonly string[]): string {
  return `{"op":"events","stream":${JSON.stringify(stream)},"events":[${jsons.join(',')}]}`;
}

export function framesFor(stream: string, jsons: readonly string[]): string {
  return jsons.length === 1 ? eventFrame(jsons[0]!) : eventsFrame(stream, jsons);
}

// Whole frames of recent runs, by stream, epoch and the run's first and last seq: a reconnect storm
// brings thousands of subscribers back to the same point, and each would otherwise build the same
// frame of the same hundred events again.
const runs = new FifoCache<string>(8 * 1024 * 1024, textLength);

/** The frame carrying `events` of `stream`, built once per run of consecutive seqs. */
export function frameOf(stream: string, events: readonly AnyEnvelope[]): string {
  const first = events[0]!;
  const last = events[events.length - 1]!;
  // Only a gapless run is named by its ends; anything else is built as it is, uncached.
  if (last.seq - first.seq + 1 !== events.length) return framesFor(stream, events.map(encodeEnvelope));
  const key = `${stream}\n${first.epoch}\n${first.seq}\n${last.seq}`;
  let frame = runs.get(key);
  if (frame === undefined) {
    frame = framesFor(stream, events.map(encodeEnvelope));
    runs.set(key, frame);
  }
  return frame;
}
