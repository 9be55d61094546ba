import type { AnyEnvelope } from '@agentwire/protocol';

/**
 * Frame encoders for the native protocol. Envelopes are stringified once here and the resulting
 * strings reused for every subscriber of the stream.
 *
 * The JSON of recent events is also kept, by stream, epoch and seq: within an epoch the log never
 * changes an event, so the text is final. Subscribers that resume read the same events from the
 * log one by one (a reconnect storm: thousands of them, the same hundred events each); with the
 * cache each event is stringified once, not once per subscriber.
 */
const CACHE_CHARS = 4 * 1024 * 1024;
const recent = new Map<string, string>();
let cachedChars = 0;

export function encodeEnvelope(event: AnyEnvelope): string {
  const key = `${event.stream}\n${event.epoch}\n${event.seq}`;
  let json = recent.get(key);
  if (json === undefined) {
    json = JSON.stringify(event);
    recent.set(key, json);
    cachedChars += json.length;
    // Oldest first: Map iteration follows insertion order.
    for (const [k, v] of recent) {
      if (cachedChars <= CACHE_CHARS) break;
      recent.delete(k);
      cachedChars -= v.length;
    }
  }
  return json;
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
