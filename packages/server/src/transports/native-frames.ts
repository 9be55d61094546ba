import type { AnyEnvelope, ServerOp } from '@agentwire/protocol';

let lastFrame: string | undefined;
let lastEvents: readonly AnyEnvelope[] = [];

/**
 * The envelopes carried by one native event frame (`event` or `events`), for transports that speak
 * something other than the native protocol. Works from the frame text alone, so it keeps working
 * whatever the hub does to produce it; a Buffer frame is decoded first.
 *
 * The hub hands the same frame to every subscriber of a stream, so the last frame's parse is kept:
 * N subscribers of one stream cost one `JSON.parse`, not N. The result is shared: do not mutate it.
 */
export function envelopesOf(frame: string | Uint8Array): readonly AnyEnvelope[] {
  const text = typeof frame === 'string' ? frame : Buffer.from(frame).toString('utf8');
  if (text === lastFrame) return lastEvents;
  let events: readonly AnyEnvelope[] = [];
  try {
    const op = JSON.parse(text) as ServerOp;
    if (op.op === 'event') events = [op.event];
    else if (op.op === 'events') events = op.events;
  } catch {
    // Not a frame we produced; there is nothing to forward.
  }
  lastFrame = text;
  lastEvents = events;
  return events;
}
