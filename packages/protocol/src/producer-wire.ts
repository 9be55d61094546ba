import { Type, type Static } from '@sinclair/typebox';
import { Id, Text } from './events/common.js';
import { StreamName } from './envelope.js';

/**
 * The producer channel (docs/protocol.md, "Producer channel"): the one long-lived connection a
 * producer holds to the gateway so that watchers' commands reach the code that runs the task. The
 * same frames travel over a WebSocket (`/v1/producer`), as plain objects in-process, and as AMQP
 * message bodies through RabbitMQ, which is why they are defined apart from any socket.
 */
export const PRODUCER_PROTOCOL_VERSION = 1;
/** WebSocket subprotocol of the producer channel; producers may offer it, the gateway echoes it. */
export const PRODUCER_SUBPROTOCOL = 'agentwire.producer.v1';
/** Path of the producer channel's WebSocket endpoint. */
export const PRODUCER_PATH = '/v1/producer';

const By = Type.Optional(Type.String({ maxLength: 256 }));
const Kind = Type.String({ minLength: 1, maxLength: 128 });
const Streams = Type.Array(StreamName, { maxItems: 10_000 });
const Kinds = Type.Array(Kind, { maxItems: 100 });
/** Most tasks a worker runs at once; the gateway routes no start beyond it. */
const Capacity = Type.Integer({ minimum: 1, maximum: 1_000_000 });
const CommandId = Type.String({ minLength: 1, maxLength: 128 });

// ---- commands as delivered to the producer ------------------------------------------------------
// A watcher's command plus what the gateway adds: who sent it, and ids the effect events use.

export const CancelDelivery = Type.Object(
  {
    type: Type.Literal('cancel'),
    stream: StreamName,
    agentId: Type.Optional(Id),
    reason: Type.Optional(Text(2_000)),
    by: By,
  },
  { additionalProperties: false },
);
export const AnswerDelivery = Type.Object(
  {
    type: Type.Literal('answer'),
    stream: StreamName,
    questionId: Id,
    answer: Type.Unknown(),
    by: By,
    /** Set when the gateway closed the question because its `timeoutMs` ran out. */
    timedOut: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const MessageDelivery = Type.Object(
  {
    type: Type.Literal('message'),
    stream: StreamName,
    messageId: Id,
    text: Text(20_000),
    from: By,
  },
  { additionalProperties: false },
);
export const StartDelivery = Type.Object(
  {
    type: Type.Literal('start'),
    stream: StreamName,
    taskId: Id,
    kind: Kind,
    title: Type.Optional(Text(500)),
    input: Type.Optional(Type.Unknown()),
    projectId: Type.Optional(Id),
    by: By,
  },
  { additionalProperties: false },
);
export const CommandDeliverySchema = Type.Union(
  [CancelDelivery, AnswerDelivery, MessageDelivery, StartDelivery],
  {
    $id: 'CommandDelivery',
  },
);
export type CommandDelivery = Static<typeof CommandDeliverySchema>;
export type CancelDelivery = Static<typeof CancelDelivery>;
export type AnswerDelivery = Static<typeof AnswerDelivery>;
export type MessageDelivery = Static<typeof MessageDelivery>;
export type StartDelivery = Static<typeof StartDelivery>;

// ---- producer → gateway ---------------------------------------------------------------------------

/**
 * First frame on every (re)connection. It restates the producer's whole standing (the tasks it
 * owns, the kinds it works on), so a gateway that restarted, or another node, learns it again.
 */
export const ProducerHelloOp = Type.Object(
  {
    op: Type.Literal('hello'),
    version: Type.Integer({ minimum: 1 }),
    /** Stable for the producer's lifetime; a reconnection with the same id resumes its queue. */
    producerId: Id,
    name: Type.Optional(Type.String({ maxLength: 200 })),
    streams: Type.Optional(Streams),
    kinds: Type.Optional(Kinds),
    capacity: Type.Optional(Capacity),
  },
  { additionalProperties: false },
);
/** Takes ownership of tasks: commands for them come here from now on. */
export const ClaimOp = Type.Object(
  { op: Type.Literal('claim'), streams: Streams },
  { additionalProperties: false },
);
/** Replaces the kinds this producer starts tasks for (empty: no longer a worker). */
export const WorkerOp = Type.Object(
  { op: Type.Literal('worker'), kinds: Kinds, capacity: Type.Optional(Capacity) },
  { additionalProperties: false },
);
/** The command `id` was carried out; `result` goes back to its sender. */
export const ProducerAckOp = Type.Object(
  { op: Type.Literal('ack'), id: CommandId, result: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);
/** The command `id` was refused; `code` is a registry code the sender receives. */
export const ProducerRejectOp = Type.Object(
  {
    op: Type.Literal('reject'),
    id: CommandId,
    code: Type.String({ minLength: 1, maxLength: 64 }),
    message: Type.String({ maxLength: 2_000 }),
  },
  { additionalProperties: false },
);
/** Liveness; the gateway answers `pong`. A producer silent for `orphanAfterMs` is gone. */
export const ProducerPingOp = Type.Object({ op: Type.Literal('ping') }, { additionalProperties: false });
/** Leaving on purpose: tasks still running are marked orphaned now instead of after the timeout. */
export const ProducerByeOp = Type.Object({ op: Type.Literal('bye') }, { additionalProperties: false });

export const ProducerOpSchema = Type.Union(
  [ProducerHelloOp, ClaimOp, WorkerOp, ProducerAckOp, ProducerRejectOp, ProducerPingOp, ProducerByeOp],
  { $id: 'ProducerOp' },
);
export type ProducerOp = Static<typeof ProducerOpSchema>;
export type ProducerHelloOp = Static<typeof ProducerHelloOp>;
export const producerOpNames = ['hello', 'claim', 'worker', 'ack', 'reject', 'ping', 'bye'] as const;

// ---- gateway → producer ---------------------------------------------------------------------------

export const WelcomeOp = Type.Object(
  {
    op: Type.Literal('welcome'),
    version: Type.Integer(),
    producerId: Id,
    /** How often the producer should ping. */
    heartbeatMs: Type.Integer({ minimum: 1 }),
    /** Silence after which the gateway gives up on the producer and marks its tasks orphaned. */
    orphanAfterMs: Type.Integer({ minimum: 1 }),
    /** True when the gateway still knew this producer: queued commands follow. */
    resumed: Type.Boolean(),
  },
  { additionalProperties: false },
);
/**
 * One command to carry out. Delivered at least once: after a reconnection, every command not yet
 * acknowledged is sent again with the same `id`, so the producer acts on an id once and repeats
 * its earlier answer for a duplicate. That makes the effect exactly once.
 */
export const DeliverOp = Type.Object(
  { op: Type.Literal('command'), id: CommandId, command: CommandDeliverySchema },
  { additionalProperties: false },
);
export const ProducerPongOp = Type.Object(
  { op: Type.Literal('pong'), time: Type.Number() },
  { additionalProperties: false },
);
export const ProducerErrorOp = Type.Object(
  {
    op: Type.Literal('error'),
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export const GatewayOpSchema = Type.Union([WelcomeOp, DeliverOp, ProducerPongOp, ProducerErrorOp], {
  $id: 'GatewayOp',
});
export type GatewayOp = Static<typeof GatewayOpSchema>;
export type DeliverOp = Static<typeof DeliverOp>;
export type WelcomeOp = Static<typeof WelcomeOp>;
export const gatewayOpNames = ['welcome', 'command', 'pong', 'error'] as const;

/**
 * What a gateway in the same process offers producers: the producer channel as direct calls. The
 * agent SDK finds it on the publisher it is given (`connect({ publisher: gateway })`).
 */
export interface ProducerPort {
  /**
   * Opens a connection: `receive` gets every gateway op, `closed` is told when the gateway ends the
   * connection (shutdown, or a newer connection of the same producer replaced it).
   */
  connectProducer(
    receive: (op: GatewayOp) => void,
    closed?: (code: number, reason: string) => void,
  ): ProducerPortConnection;
}
export interface ProducerPortConnection {
  /** Hands one producer op to the gateway; invalid ops are answered with an `error` op. */
  send(op: ProducerOp): void;
  /** Ends the connection as a dropped socket would: the producer's queue waits for it to return. */
  close(): void;
}

export function isProducerPort(value: unknown): value is ProducerPort {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { connectProducer?: unknown }).connectProducer === 'function'
  );
}
