import type { AnyEnvelope, Envelope } from '@agentwire/protocol';
import { encodeEnvelope, framesFor } from './encode.js';

/**
 * How the hub treats a subscriber that asked for merged token deltas (`coalesce` on subscribe)
 * and falls behind. Instead of writing every event to a socket that does not drain, the hub holds
 * them and merges consecutive `message:delta`s of one message into one event (with `fromSeq`), so
 * a slow reader gets fewer, larger deltas and the same final text. Structural events are held as
 * they are, never merged or dropped; past the bounds below the subscriber is evicted as before and
 * resumes by seq.
 */
export interface CoalesceOptions {
  /** Off: a subscriber that falls behind is written to until `maxBufferedBytes`, then evicted. */
  enabled: boolean;
  /**
   * Bytes still queued on the subscriber's connection above which its events are held in the hub
   * (capped at half of `maxBufferedBytes`).
   */
  behindBytes: number;
  /** Most bytes of events held for one subscription; beyond, it is evicted. */
  maxHeldBytes: number;
  /** Most events held for one subscription (merged deltas count once); beyond, it is evicted. */
  maxHeldEvents: number;
  /** How often subscriptions holding events are checked for a connection that drained, in ms. */
  flushIntervalMs: number;
}

export const defaultCoalesce: CoalesceOptions = {
  enabled: true,
  behindBytes: 256 * 1024,
  maxHeldBytes: 1024 * 1024,
  maxHeldEvents: 4096,
  flushIntervalMs: 20,
};

type Delta = Envelope<'message:delta'>;

/** A delta that carries nothing but its message and text, so merging it loses nothing. */
function plainDelta(e: AnyEnvelope): e is Delta {
  if (e.type !== 'message:delta') return false;
  const d = e.data as unknown as Record<string, unknown>;
  let keys = 0;
  for (const k in d) {
    if (k !== 'messageId' && k !== 'delta') return false;
    keys++;
  }
  return keys === 2 && typeof d.delta === 'string';
}

/** `next` appended to `prev` when both are plain deltas of one message, `next` right after `prev`. */
function merge(prev: AnyEnvelope | undefined, next: AnyEnvelope): Delta | undefined {
  if (prev === undefined || !plainDelta(next) || !plainDelta(prev)) return undefined;
  if (prev.epoch !== next.epoch || prev.seq + 1 !== next.seq) return undefined;
  if (prev.data.messageId !== next.data.messageId) return undefined;
  return {
    ...next,
    fromSeq: prev.fromSeq ?? prev.seq,
    data: { messageId: next.data.messageId, delta: prev.data.delta + next.data.delta },
  };
}

/** The events a behind subscriber has not been sent yet, consecutive deltas merged. */
export class HeldEvents {
  private events: AnyEnvelope[] = [];
  /** Approximate bytes of the held events' JSON. */
  bytes = 0;
  /** Original events the held ones stand for. */
  covered = 0;

  get count(): number {
    return this.events.length;
  }

  add(events: readonly AnyEnvelope[]): void {
    for (const e of events) {
      const m = merge(this.events[this.events.length - 1], e);
      this.covered++;
      if (m) {
        this.events[this.events.length - 1] = m;
        this.bytes += (e.data as { delta: string }).delta.length;
      } else {
        this.events.push(e);
        this.bytes += encodeEnvelope(e).length;
      }
    }
  }

  /** The frame carrying everything held; empties the queue. */
  take(stream: string): { frame: string; count: number } {
    const frame = framesFor(stream, this.events.map(encodeHeld));
    const count = this.covered;
    this.events = [];
    this.bytes = 0;
    this.covered = 0;
    return { frame, count };
  }
}

/**
 * A merged event shares its last part's stream, epoch and seq, so it must not go through the
 * per-seq JSON cache; the others do.
 */
function encodeHeld(e: AnyEnvelope): string {
  return e.fromSeq === undefined ? encodeEnvelope(e) : JSON.stringify(e);
}

/** `events` with consecutive deltas of one message merged, or the same array when none are. */
export function compact(events: readonly AnyEnvelope[]): readonly AnyEnvelope[] {
  let i = 1;
  while (i < events.length && !merge(events[i - 1], events[i]!)) i++;
  if (i >= events.length) return events;
  const out = events.slice(0, i - 1);
  let last: AnyEnvelope = events[i - 1]!;
  for (; i < events.length; i++) {
    const e = events[i]!;
    const m = merge(last, e);
    if (m) last = m;
    else {
      out.push(last);
      last = e;
    }
  }
  out.push(last);
  return out;
}

/** The frame of a compacted run (merged events are encoded afresh, the others from the cache). */
export function compactedFrame(stream: string, events: readonly AnyEnvelope[]): string {
  return framesFor(stream, events.map(encodeHeld));
}
