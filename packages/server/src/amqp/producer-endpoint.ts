import { AgentwireError, parseJson, type GatewayOp } from '@agentwire/protocol';
import { type Channel, type ChannelModel, type ConsumeMessage, type RecoveringChannelModel } from 'amqplib';
import type { Logger } from '../logger.js';
import { identityOf } from '../auth/publish-grant.js';
import { ProducerConnection } from '../producers/connection.js';
import type { ProducerCredential } from '../producers/credential.js';
import type { ProducerLink } from '../producers/link.js';
import type { ProducerRegistry } from '../producers/registry.js';
import { messageOf } from '../error-text.js';
import { connectBroker } from './broker.js';
import { resolveAmqpOptions, type AmqpIngestOptions, type ResolvedAmqpOptions } from './options.js';

/** Header naming the producer on inbound messages, so ops can be answered before its hello is known. */
export const AMQP_PRODUCER_HEADER = 'x-agentwire-producer';
/** Routing key of a producer's commands on the command exchange. */
export function commandRoutingKey(producerId: string): string {
  return `producer.${producerId}`;
}

/** Silence longer than this many heartbeats ends an AMQP producer connection, as a dead socket would. */
const DEAD_AFTER_HEARTBEATS = 2.5;

interface AmqpProducer {
  producerId: string;
  /** The broker user that said hello (the validated `user-id`), if it named one. */
  userId: string | undefined;
  connection: ProducerConnection;
  lastHeard: number;
  open: boolean;
}

/**
 * The producer channel over RabbitMQ. There is no socket, so a "connection" is what the producer
 * names in each message's `correlationId`: a fresh id per (re)connection, opened by a `hello`.
 * Producers publish their ops as JSON to the producer queue; the gateway publishes its ops (welcome,
 * commands, pongs, errors) to the command exchange with routing key `producer.<producerId>` and the
 * connection id as `correlationId`. Everything else (routing, resending until acked, workers,
 * orphaning) is the registry's, exactly as for `/v1/producer`, because each connection is a
 * `ProducerConnection` over a `ProducerLink` like any other.
 */
export class AmqpProducerEndpoint {
  readonly options: ResolvedAmqpOptions;
  private model: RecoveringChannelModel | undefined;
  private channel: Channel | undefined;
  private readonly connections = new Map<string, AmqpProducer>();
  private readonly sweeper: NodeJS.Timeout;
  private stopped = false;

  constructor(
    options: AmqpIngestOptions,
    private readonly registry: ProducerRegistry,
    private readonly logger: Logger,
  ) {
    this.options = resolveAmqpOptions(options);
    const heartbeatMs = registry.options.heartbeatMs;
    this.sweeper = setInterval(() => this.sweep(Date.now()), heartbeatMs);
    this.sweeper.unref();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Connects and declares the command exchange and the producer queue; rejects if the broker is unreachable. */
  async start(): Promise<void> {
    this.model = await connectBroker(this.options.url, (model) => this.setup(model));
    this.model.on('disconnect', (err: Error) => {
      // Publishing is impossible until recovery; producers notice the silence and say hello again.
      this.channel = undefined;
      this.logger.warn({ err: err.message }, 'amqp producer channel disconnected');
    });
    this.model.on('error', (err: Error) =>
      this.logger.warn({ err: err.message }, 'amqp producer connection error'),
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.sweeper);
    for (const [id, entry] of this.connections) this.drop(id, entry);
    await this.model?.close().catch(() => {});
  }

  private async setup(model: ChannelModel): Promise<void> {
    const o = this.options;
    const channel = await model.createChannel();
    channel.on('error', (err: Error) =>
      this.logger.warn({ err: err.message }, 'amqp producer channel error'),
    );
    await channel.assertExchange(o.commandExchange, 'topic', { durable: true });
    // Single active consumer: the sessions live in one node's memory, so one node holds them all;
    // when it goes, another takes over and the producers' next hello lands there.
    await channel.assertQueue(o.producerQueue, {
      durable: true,
      arguments: { 'x-single-active-consumer': true },
    });
    if (this.stopped) return;
    this.channel = channel;
    await channel.consume(
      o.producerQueue,
      (msg) => {
        if (!msg) return;
        this.receive(msg);
      },
      // Ops are small and idempotent (acks, restating hellos); losing one in a crash costs a resend.
      { noAck: true },
    );
  }

  private receive(msg: ConsumeMessage): void {
    const connectionId = msg.properties.correlationId as string | undefined;
    if (typeof connectionId !== 'string' || connectionId.length === 0) {
      this.logger.debug('amqp producer message without a correlationId (connection id); dropped');
      return;
    }
    let value: unknown;
    try {
      value = parseJson(msg.content.toString('utf8'));
    } catch (err) {
      this.answerStranger(msg, connectionId, err);
      return;
    }
    const userId = typeof msg.properties.userId === 'string' ? msg.properties.userId : undefined;
    let entry = this.connections.get(connectionId);
    if (entry && entry.userId !== userId) {
      // Another broker user writing under this connection's id: it is not that producer.
      this.logger.debug({ connectionId }, 'amqp producer op from another broker user; dropped');
      return;
    }
    if (!entry) {
      const hello = value as { op?: unknown; producerId?: unknown } | null;
      if (hello?.op !== 'hello' || typeof hello.producerId !== 'string') {
        // A connection this node does not know (it restarted, or the producer's hello went
        // elsewhere): stay silent, so the producer's watchdog reconnects with a fresh hello.
        this.logger.debug({ connectionId }, 'amqp producer op on an unknown connection; dropped');
        return;
      }
      entry = this.open(connectionId, hello.producerId, userId);
    }
    entry.lastHeard = Date.now();
    entry.connection.receive(value);
  }

  private open(connectionId: string, producerId: string, userId: string | undefined): AmqpProducer {
    const link: ProducerLink = {
      send: (op) => {
        if (entry.open) this.publish(producerId, connectionId, op);
      },
      close: () => {
        // Replaced by a newer connection, gone, or said bye: forget it, as a closed socket would.
        queueMicrotask(() => this.drop(connectionId, entry));
      },
    };
    // The broker's credentials are this channel's: its producers are told apart by broker user.
    const credential: ProducerCredential = { identity: identityOf(['amqp', userId ?? null]), grant: 'all' };
    const entry: AmqpProducer = {
      producerId,
      userId,
      connection: new ProducerConnection(this.registry, link, this.logger, credential),
      lastHeard: Date.now(),
      open: true,
    };
    this.connections.set(connectionId, entry);
    return entry;
  }

  private drop(connectionId: string, entry: AmqpProducer): void {
    if (!entry.open) return;
    entry.open = false;
    if (this.connections.get(connectionId) === entry) this.connections.delete(connectionId);
    entry.connection.closed();
  }

  private publish(producerId: string, connectionId: string, op: GatewayOp): void {
    const channel = this.channel;
    if (!channel) return; // disconnected: the registry resends unacked commands after the next hello
    try {
      channel.publish(
        this.options.commandExchange,
        commandRoutingKey(producerId),
        Buffer.from(JSON.stringify(op)),
        {
          persistent: true,
          contentType: 'application/json',
          correlationId: connectionId,
          type: op.op,
          ...(op.op === 'command' && { messageId: op.id }),
        },
      );
    } catch (err) {
      this.logger.warn({ err: messageOf(err), producer: producerId }, 'could not publish to a producer');
    }
  }

  /** An unreadable message: answered with an error when the producer is named, like a bad frame. */
  private answerStranger(msg: ConsumeMessage, connectionId: string, err: unknown): void {
    const entry = this.connections.get(connectionId);
    const headers = msg.properties.headers as Record<string, unknown> | undefined;
    const named = headers?.[AMQP_PRODUCER_HEADER];
    const producerId = entry?.producerId ?? (typeof named === 'string' ? named : undefined);
    if (!producerId) return;
    const e = err instanceof AgentwireError ? err : new AgentwireError('invalid_message');
    this.publish(producerId, connectionId, { op: 'error', code: e.code, message: e.message });
  }

  /** Connections silent for longer than a few heartbeats are over; the registry then waits for a new hello. */
  private sweep(now: number): void {
    const deadMs = this.registry.options.heartbeatMs * DEAD_AFTER_HEARTBEATS;
    for (const [id, entry] of this.connections) {
      if (now - entry.lastHeard > deadMs) this.drop(id, entry);
    }
  }
}
