import { Type, type Static } from '@sinclair/typebox';
import type { EventData, EventType } from './catalog.js';
import { Epoch, EventId, Seq, StreamName } from './fields.js';

export { Epoch, EventId, Seq, StreamName };

/**
 * W3C Trace Context `traceparent` (version 00): version, 32-hex trace id, 16-hex parent span id,
 * flags. All-zero ids are invalid per the specification, and so refused here.
 */
export const TRACEPARENT_PATTERN = '^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$';

/**
 * The producer's trace context, W3C Trace Context fields as they travel in HTTP headers: an
 * envelope's metadata, stored and delivered with the event so a tracing backend can follow it
 * from the producer's span through the gateway to each watcher (docs/observability.md#tracing).
 */
export const TraceContextSchema = Type.Object(
  {
    traceparent: Type.String({ maxLength: 55, pattern: TRACEPARENT_PATTERN }),
    tracestate: Type.Optional(Type.String({ maxLength: 512, pattern: '^[\\x20-\\x7e]*$' })),
  },
  { additionalProperties: false },
);
export type TraceContext = Static<typeof TraceContextSchema>;

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
  /** The producer's trace context, when it published from inside a traced operation. */
  trace?: TraceContext;
  /**
   * Set on a `message:delta` that stands for the consecutive deltas `fromSeq`..`seq` of one
   * message, merged for a subscriber that asked for it (`coalesce` on subscribe) while it was
   * behind or catching up. Its `delta` is their concatenation; `id`, `time` and `trace` are the
   * last one's.
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
    trace: Type.Optional(TraceContextSchema),
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
    trace: Type.Optional(TraceContextSchema),
  },
  { $id: 'EventInput', additionalProperties: false },
);
export type RawEventInput = Static<typeof EventInputSchema>;

export interface EventInput<T extends EventType = EventType> {
  id?: string;
  type: T;
  data: EventData<T>;
  trace?: TraceContext;
}
export type AnyEventInput = { [T in EventType]: EventInput<T> }[EventType];

/** A resume position: the last event a subscriber has, in the epoch it was in. */
export const SinceSchema = Type.Object(
  { epoch: Type.Optional(Epoch), seq: Seq },
  { $id: 'Since', additionalProperties: false },
);
export type Since = Static<typeof SinceSchema>;
