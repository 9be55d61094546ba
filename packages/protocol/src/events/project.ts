import { Type } from '@sinclair/typebox';
import { Epoch, EventId, Seq, StreamName } from '../fields.js';

/**
 * A project stream's copy of one event of one of its tasks: `data` is that event's envelope as its
 * task stream holds it. Only the gateway writes these (docs/protocol.md, "Projects"); producers
 * cannot publish them.
 */
export const projectEvents = {
  'project:event': Type.Object({
    stream: StreamName,
    seq: Seq,
    epoch: Epoch,
    id: EventId,
    type: Type.String({ maxLength: 64 }),
    time: Type.Number(),
    data: Type.Unknown(),
  }),
};

/** Event types only the gateway writes; ingest refuses them from producers. */
export const GATEWAY_ONLY_EVENT_TYPES: ReadonlySet<string> = new Set(['project:event']);
