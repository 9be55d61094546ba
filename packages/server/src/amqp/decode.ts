import { createHash } from 'node:crypto';
import {
  AgentwireError,
  assertStreamName,
  isEventType,
  isStreamName,
  parseEventInput,
  parseJson,
  taskStream,
  type AnyEventInput,
} from '@agentwire/protocol';
import {
  seed002Rules,
  seedTypeMatches,
  isSeedType,
  type SeedView,
} from '../surfaces/progress/progress-amqp.js';

/** What the consumer knows of one AMQP delivery. */
export interface AmqpDelivery {
  content: Buffer;
  routingKey: string;
  /** The AMQP `message-id` property, if the publisher set one. */
  messageId?: unknown;
  /** The message's headers: `traceparent` and `tracestate` there carry the publisher's trace. */
  headers?: Record<string, unknown>;
}

/** A delivery turned into one event for one stream, with the id that makes redelivery harmless. */
export interface DecodedEvent {
  stream: string;
  event: AnyEventInput & { id: string };
}

const EVENT_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * Turns a delivery into a validated event, or throws the AgentwireError that explains why not (the
 * consumer dead-letters the message with that code). Two shapes are accepted:
 * - canonical: `{ id?, type, data, stream? }` with a catalog type;
 * - seed 002: `{ type: 'executor.step.progress', requestId, agent, data }` and its siblings
 *   (surfaces/progress/progress-amqp.ts), stored in `task:<requestId>`.
 * The stream is the message's own (`stream`, or the request for a seed message), else the routing
 * key when it names a stream. The id is the message's `id`, else the AMQP message id, else a hash of
 * the content, so a redelivered message is stored once.
 */
export function decodeDelivery(delivery: AmqpDelivery, maxBytes: number): DecodedEvent {
  if (delivery.content.length > maxBytes) {
    throw new AgentwireError(
      'payload_too_large',
      `The message has ${delivery.content.length} bytes; at most ${maxBytes} are accepted.`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(delivery.content);
  } catch {
    throw new AgentwireError('bad_encoding');
  }
  const body = parseJson(text);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AgentwireError('invalid_message', 'A message must be a JSON object with a type.');
  }
  const message = body as Record<string, unknown>;
  const type = message.type;
  if (typeof type !== 'string')
    throw new AgentwireError('invalid_message', 'The message has no string `type`.');

  if (isEventType(type) || !isSeedType(type)) {
    // Canonical (an unknown type is refused by parseEventInput with unknown_event_type).
    const { stream, ...rest } = message;
    const trace = rest.trace ?? traceOf(delivery.headers);
    const event = parseEventInput({
      ...rest,
      id: rest.id ?? idOf(delivery),
      ...(trace !== undefined && { trace }),
    });
    return { stream: streamOf(stream, delivery.routingKey), event: event as DecodedEvent['event'] };
  }

  const view = seedView(message);
  const status = view.text(view.d.status) ?? view.text(message.status);
  const rule = seed002Rules.find(
    (r) => seedTypeMatches(r.type, type) && (r.status === undefined || r.status === status),
  );
  if (!rule) {
    throw new AgentwireError(
      'unknown_event_type',
      `No mapping for ${type} with status ${JSON.stringify(status ?? null)}.`,
      {
        type,
        status,
      },
    );
  }
  const requestId = view.text(message.requestId);
  const stream =
    requestId === undefined
      ? streamOf(message.stream, delivery.routingKey)
      : assertStreamName(taskStream(requestId));
  const trace = traceOf(delivery.headers);
  const event = parseEventInput({
    id: idOf(delivery),
    type: rule.event,
    data: compact(rule.data(view)),
    ...(trace !== undefined && { trace }),
  });
  return { stream, event: event as DecodedEvent['event'] };
}

/**
 * The trace context of the message headers, as OpenTelemetry's AMQP propagation writes it
 * (validated with the event: a malformed one refuses the message like any other bad field).
 */
function traceOf(headers: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const traceparent = headers?.traceparent;
  if (traceparent === undefined) return undefined;
  const tracestate = headers?.tracestate;
  return {
    traceparent: text(traceparent),
    ...(tracestate !== undefined && { tracestate: text(tracestate) }),
  };
}

/** amqplib hands header values over as Buffers when the publisher sent them as byte arrays. */
function text(value: unknown): unknown {
  return Buffer.isBuffer(value) ? value.toString('latin1') : value;
}

/** The AMQP message id when it can be an event id, else a digest of it or of the content. */
function idOf(delivery: AmqpDelivery): string {
  const { messageId } = delivery;
  if (typeof messageId === 'string' && EVENT_ID.test(messageId)) return messageId;
  const source =
    typeof messageId === 'string' && messageId !== '' ? Buffer.from(messageId) : delivery.content;
  return `amqp-${createHash('sha256').update(source).digest('base64url').slice(0, 32)}`;
}

function streamOf(own: unknown, routingKey: string): string {
  if (own !== undefined) return assertStreamName(own);
  const shown = JSON.stringify(routingKey.slice(0, 200));
  if (isStreamName(routingKey)) return routingKey;
  throw new AgentwireError(
    'invalid_stream',
    `No stream: the message has no \`stream\` and the routing key ${shown} is not a stream name.`,
  );
}

function seedView(raw: Record<string, unknown>): SeedView {
  const d =
    typeof raw.data === 'object' && raw.data !== null && !Array.isArray(raw.data)
      ? (raw.data as Record<string, unknown>)
      : {};
  const text = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== ''
      ? v
      : typeof v === 'number' && Number.isFinite(v)
        ? String(v)
        : undefined;
  const number = (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  const stepOrder = text(d.stepOrder) ?? text(raw.step) ?? text(d.step);
  return {
    raw,
    d,
    text,
    number,
    agent: text(raw.agent),
    stepId: text(d.stepId) ?? (stepOrder === undefined ? undefined : `step-${stepOrder}`),
    error(fallback) {
      const e = d.error ?? raw.error;
      if (typeof e === 'object' && e !== null) {
        const { message, code } = e as Record<string, unknown>;
        const out: { message: string; code?: string } = { message: text(message) ?? fallback };
        const c = text(code);
        if (c !== undefined) out.code = c;
        return out;
      }
      return { message: text(e) ?? text(raw.message) ?? text(d.message) ?? fallback };
    },
  };
}

/** Drops undefined fields: the catalog's optional fields must be absent, not undefined. */
function compact(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
}
