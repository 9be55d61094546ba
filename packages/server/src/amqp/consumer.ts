import { AgentwireError, type ErrorCode } from '@agentwire/protocol';
import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type RecoveringChannelModel,
} from 'amqplib';
import type { Logger } from '../logger.js';
import { messageOf } from '../error-text.js';
import { connectBroker } from './broker.js';
import { decodeDelivery, type DecodedEvent } from './decode.js';
import {
  DEAD_LETTER_HEADERS,
  resolveAmqpOptions,
  type AmqpIngestOptions,
  type ResolvedAmqpOptions,
} from './options.js';

/** How events get into the log: the gateway's ingest (validation, ids, durable append). */
export type IngestPublish = (stream: string, events: unknown[]) => Promise<unknown>;

export interface AmqpIngestStats {
  received: number;
  /** Messages acknowledged after the log had their event (duplicates included). */
  stored: number;
  deadLettered: number;
  /** Messages handed back to RabbitMQ because the log could not take them. */
  requeued: number;
}

interface Delivery {
  channel: Channel;
  msg: ConsumeMessage;
}

/** Codes that mean "the log could not take it now", not "this message is wrong". */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'unavailable',
  'storage_unavailable',
  'internal',
  'shutting_down',
  'timeout',
]);

/** Whether the consumer is attached to its queue, and if not, why and since when. */
export type AmqpAttachment = { attached: true } | { attached: false; cause: string; since: number };
const PAUSE_AFTER_FAILURE_MS = 1000;

/**
 * Consumes producers' events from RabbitMQ into the log.
 *
 * A message is acknowledged only once the log has its event, so a gateway that dies with messages
 * in flight gets them again from RabbitMQ, and the event id (the message's `id`, its AMQP message id
 * or a content hash) makes the second delivery a duplicate, not a second event. Deliveries of one
 * event-loop turn are group-committed: one append per stream, in delivery order. A message that can
 * never be stored (bad JSON, unknown type, wrong data, no stream) goes to the dead-letter queue with
 * the error code in a header; when the log itself fails, the messages go back to the queue, and
 * consumption pauses briefly rather than spinning.
 */
export class AmqpIngest {
  readonly options: ResolvedAmqpOptions;
  private connection: RecoveringChannelModel | undefined;
  private current: { channel: Channel; dead: ConfirmChannel; consumerTag: string } | undefined;
  private buffer: Delivery[] = [];
  private pumping: Promise<void> | undefined;
  private pausedUntil = 0;
  private stopped = false;
  private detached: { cause: string; since: number } | undefined = { cause: 'connecting', since: Date.now() };
  /** Hears each change of `attachment` (the gateway's readiness, log and alerts). */
  onAttachment: ((attachment: AmqpAttachment, err?: Error) => void) | undefined;
  private readonly counters: AmqpIngestStats = { received: 0, stored: 0, deadLettered: 0, requeued: 0 };

  constructor(
    options: AmqpIngestOptions,
    private readonly publish: IngestPublish,
    private readonly logger: Logger,
    private readonly maxBatch = 1000,
  ) {
    this.options = resolveAmqpOptions(options);
  }

  /** Connects, declares the topology and starts consuming; rejects if the broker cannot be reached. */
  async start(): Promise<void> {
    this.connection = await connectBroker(this.options.url, (model) => this.setup(model));
    this.connection.on('disconnect', (err: Error) => this.detach(causeOf(err, 'disconnected'), err));
    this.connection.on('error', (err: Error) =>
      this.logger.warn({ err: err.message }, 'amqp ingest connection error'),
    );
  }

  /** Stops consuming, settles what was received (acked if stored), and disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const current = this.current;
    if (current) await current.channel.cancel(current.consumerTag).catch(() => {});
    while (this.pumping) await this.pumping;
    // Whatever was not processed goes back to the queue with the channel.
    await this.connection?.close().catch(() => {});
  }

  stats(): AmqpIngestStats {
    return { ...this.counters };
  }

  /** Whether a consumer is attached to the queue right now (false while reconnecting). */
  get attached(): boolean {
    return this.attachment.attached && !this.stopped;
  }

  get attachment(): AmqpAttachment {
    return this.detached ? { attached: false, ...this.detached } : { attached: true };
  }

  private detach(cause: string, err?: Error): void {
    if (this.stopped || this.detached) return;
    this.detached = { cause, since: Date.now() };
    this.current = undefined;
    this.onAttachment?.(this.attachment, err);
  }

  /** Runs on every (re)connection: the topology is declared idempotently, then consumption starts. */
  private async setup(model: ChannelModel): Promise<void> {
    const o = this.options;
    const channel = await model.createChannel();
    const dead = await model.createConfirmChannel();
    channel.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'amqp ingest channel error'));
    // A channel the broker closed is not reopened until the connection is: the consumer is detached.
    channel.on('close', () => {
      if (this.current?.channel === channel) this.detach('channel_closed');
    });
    dead.on('error', (err: Error) =>
      this.logger.warn({ err: err.message }, 'amqp dead-letter channel error'),
    );
    await channel.assertExchange(o.exchange, 'topic', { durable: true });
    await channel.assertExchange(o.deadExchange, 'fanout', { durable: true });
    await channel.assertQueue(o.deadQueue, { durable: true });
    await channel.bindQueue(o.deadQueue, o.deadExchange, '');
    // Rejections RabbitMQ dead-letters by itself (none today, but an operator's policy may add some)
    // land in the same dead queue as the ones this consumer publishes with a code.
    await channel.assertQueue(o.queue, {
      durable: true,
      deadLetterExchange: o.deadExchange,
      ...(o.singleActiveConsumer && { arguments: { 'x-single-active-consumer': true } }),
    });
    for (const key of o.bindingKeys) await channel.bindQueue(o.queue, o.exchange, key);
    await channel.prefetch(o.prefetch);
    if (this.stopped) return;
    const { consumerTag } = await channel.consume(
      o.queue,
      (msg) => {
        if (!msg) return; // the broker cancelled the consumer (queue deleted); recovery re-creates it
        this.counters.received++;
        this.buffer.push({ channel, msg });
        this.pump();
      },
      { noAck: false },
    );
    this.current = { channel, dead, consumerTag };
    this.logger.info({ exchange: o.exchange, queue: o.queue }, 'amqp ingest consuming');
    if (this.detached) {
      this.detached = undefined;
      this.onAttachment?.(this.attachment);
    }
  }

  /** Processes the buffer one group at a time; messages arriving meanwhile form the next group. */
  private pump(): void {
    if (this.pumping || this.buffer.length === 0) return;
    this.pumping = (async () => {
      const wait = this.pausedUntil - Date.now();
      await new Promise((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
      const group = this.buffer.splice(0);
      try {
        await this.process(group);
      } catch (err) {
        this.logger.error({ err }, 'amqp ingest failed to process messages');
        this.requeue(group);
      }
    })().finally(() => {
      this.pumping = undefined;
      this.pump();
    });
  }

  private async process(group: Delivery[]): Promise<void> {
    const streams = new Map<string, { deliveries: Delivery[]; events: DecodedEvent['event'][] }>();
    const refused: { delivery: Delivery; error: AgentwireError }[] = [];
    for (const delivery of group) {
      const { msg } = delivery;
      try {
        const decoded = decodeDelivery(
          {
            content: msg.content,
            routingKey: msg.fields.routingKey,
            messageId: msg.properties.messageId,
            headers: msg.properties.headers as Record<string, unknown> | undefined,
          },
          this.options.maxMessageBytes,
        );
        let entry = streams.get(decoded.stream);
        if (!entry) streams.set(decoded.stream, (entry = { deliveries: [], events: [] }));
        entry.deliveries.push(delivery);
        entry.events.push(decoded.event);
      } catch (err) {
        refused.push({
          delivery,
          error: err instanceof AgentwireError ? err : new AgentwireError('invalid_message', messageOf(err)),
        });
      }
    }
    const failed: Delivery[] = [];
    await Promise.all(
      [...streams].map(async ([stream, entry]) => {
        for (let i = 0; i < entry.events.length; i += this.maxBatch) {
          const deliveries = entry.deliveries.slice(i, i + this.maxBatch);
          try {
            await this.publish(stream, entry.events.slice(i, i + this.maxBatch));
          } catch (err) {
            if (err instanceof AgentwireError && !RETRYABLE.has(err.code)) {
              for (const delivery of deliveries) refused.push({ delivery, error: err });
              continue;
            }
            this.logger.warn(
              { err: messageOf(err), stream },
              'amqp ingest: the log refused a batch; requeueing',
            );
            // The rest of this stream waits too, so it is not stored ahead of what failed.
            failed.push(...entry.deliveries.slice(i));
            return;
          }
          for (const delivery of deliveries) this.ack(delivery);
          this.counters.stored += deliveries.length;
        }
      }),
    );
    await this.deadLetter(refused);
    if (failed.length > 0) {
      this.pausedUntil = Date.now() + PAUSE_AFTER_FAILURE_MS;
      // Later deliveries go back too, so nothing overtakes the failed ones when they return.
      this.requeue([...failed, ...this.buffer.splice(0)]);
    }
  }

  /** Publishes refused messages to the dead-letter exchange with the error code, then acks them. */
  private async deadLetter(refused: { delivery: Delivery; error: AgentwireError }[]): Promise<void> {
    if (refused.length === 0) return;
    const dead = this.current?.dead;
    if (!dead) {
      this.requeue(refused.map((r) => r.delivery));
      return;
    }
    const o = this.options;
    try {
      for (const { delivery, error } of refused) {
        const { msg } = delivery;
        const p = msg.properties;
        this.logger.warn(
          { code: error.code, routingKey: msg.fields.routingKey, err: error.message },
          'amqp ingest: message dead-lettered',
        );
        dead.publish(o.deadExchange, msg.fields.routingKey, msg.content, {
          persistent: true,
          contentType: p.contentType as string | undefined,
          contentEncoding: p.contentEncoding as string | undefined,
          messageId: p.messageId as string | undefined,
          correlationId: p.correlationId as string | undefined,
          timestamp: p.timestamp as number | undefined,
          type: p.type as string | undefined,
          appId: p.appId as string | undefined,
          headers: {
            ...(p.headers ?? {}),
            [DEAD_LETTER_HEADERS.code]: error.code,
            [DEAD_LETTER_HEADERS.message]: error.message.slice(0, 1000),
            [DEAD_LETTER_HEADERS.exchange]: msg.fields.exchange,
            [DEAD_LETTER_HEADERS.routingKey]: msg.fields.routingKey,
          },
        });
      }
      // Only once RabbitMQ holds the dead letters may the originals go.
      await dead.waitForConfirms();
    } catch (err) {
      this.logger.warn({ err: messageOf(err) }, 'amqp ingest: dead-lettering failed; requeueing');
      this.requeue(refused.map((r) => r.delivery));
      return;
    }
    for (const { delivery } of refused) this.ack(delivery);
    this.counters.deadLettered += refused.length;
  }

  private ack({ channel, msg }: Delivery): void {
    try {
      channel.ack(msg);
    } catch {
      // The channel closed under us: RabbitMQ redelivers the message, and its id makes that harmless.
    }
  }

  private requeue(deliveries: Delivery[]): void {
    for (const { channel, msg } of deliveries) {
      try {
        channel.nack(msg, false, true);
        this.counters.requeued++;
      } catch {
        // Closed channel: RabbitMQ requeues by itself.
      }
    }
  }
}

/** A short cause for readiness: the socket error's code (`ECONNREFUSED`), else `fallback`. */
function causeOf(err: Error | undefined, fallback: string): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code !== '' ? code.slice(0, 64) : fallback;
}
