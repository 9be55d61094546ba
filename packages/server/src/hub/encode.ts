import type { AnyEnvelope } from '@agentwire/protocol';

/**
 * Frame encoders for the native protocol. Envelopes are stringified once here and the resulting
 * strings reused for every subscriber of the stream.
 */
export function encodeEnvelope(event: AnyEnvelope): string {
  return JSON.stringify(event);
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
