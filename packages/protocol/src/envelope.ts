import { Type, type Static } from '@sinclair/typebox';
import type { EventData, EventType } from './catalog.js';
import { Epoch, EventId, Seq, StreamName } from './fields.js';

export { Epoch, EventId, Seq, StreamName };

/**
 * An event as stored and delivered. `seq` is gapless per stream; `epoch` changes only when the
 * stream's history is lost; `id` is the producer's idempotency key; `time` is milliseconds since
 * the Unix epoch, stamped by the gateway when the log accepted the event.
 */
export interface Envelope<T extends EventType = EventType> {
  stream: string;
  seq: number;
  epoch: string;
  id: string;
  type: T;
  time: number;
  data: EventData<T>;
  /**
   * Set on a `message:delta` that stands for the consecutive deltas `fromSeq`..`seq` of one
   * message, merged for a subscriber that asked for it (`coalesce` on subscribe) while it was
   * behind or catching up. Its `delta` is their concatenation; `id` and `time` are the last one's.
   */
  fromSeq?: number;
}

/** Any envelope, discriminated on `type`, so `switch (e.type)` narrows `e.data`. */
export type AnyEnvelope = { [T in EventType]: Envelope<T> }[EventType];

export const EnvelopeSchema = Type.Object(
  {
    stream: StreamName,
    seq: Seq,
    epoch: Epoch,
    id: EventId,
    type: Type.String(),
    time: Type.Number(),
    data: Type.Unknown(),
    fromSeq: Type.Optional(Seq),
  },
  { $id: 'Envelope' },
);

/** What a producer sends: the log assigns stream, seq, epoch and time. */
export const EventInputSchema = Type.Object(
  {
    id: Type.Optional(EventId),
    type: Type.String({ maxLength: 64 }),
    data: Type.Unknown(),
  },
  { $id: 'EventInput', additionalProperties: false },
);
export type RawEventInput = Static<typeof EventInputSchema>;

export interface EventInput<T extends EventType = EventType> {
  id?: string;
  type: T;
  data: EventData<T>;
}
export type AnyEventInput = { [T in EventType]: EventInput<T> }[EventType];

/** A resume position: the last event a subscriber has, in the epoch it was in. */
export const SinceSchema = Type.Object(
  { epoch: Type.Optional(Epoch), seq: Seq },
  { $id: 'Since', additionalProperties: false },
);
export type Since = Static<typeof SinceSchema>;
