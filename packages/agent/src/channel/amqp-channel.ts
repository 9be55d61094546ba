import { randomUUID } from 'node:crypto';
import { parseGatewayFrame, type ProducerOp } from '@agentwire/protocol';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { defaultReconnect, reconnectDelay, type ReconnectOptions } from '../retry.js';
import type { ChannelHandlers, ChannelStatus, CommandChannel } from './command-channel.js';

export interface AmqpChannelOptions {
  /** The broker the gateway runs its RabbitMQ ingest against: `amqp://user:pass@host:5672/vhost`. */
  url: string;
  /** Topic exchange the gateway publishes commands to. Default `agent.commands`. */
  exchange?: string;
  /** Queue the gateway reads producers' ops from. Default `agentwire.producers`. */
  queue?: string;
  reconnect?: Partial<ReconnectOptions>;
}

/** Silence longer than this many heartbeats means the gateway lost us (or we it): say hello again. */
const DEAD_AFTER_HEARTBEATS = 2.5;
/** Until the first welcome, how long a hello may go unanswered before trying again. */
const HELLO_TIMEOUT_MS = 10_000;
/** Must match the gateway's `AMQP_PRODUCER_HEADER`. */
const PRODUCER_HEADER = 'x-agentwire-producer';

interface Refable {
  ref?(): unknown;
  unref?(): unknown;
}

/** The parts of amqplib's internal connection that hold the event loop open. */
interface AmqplibConnection {
  stream?: Refable;
  heartbeater?: { sendTimer?: Refable; recvTimer?: Refable };
}

interface Live {
  model: ChannelModel;
  channel: Channel;
  /** Names this connection in every message both ways (`correlationId`). */
  connectionId: string;
  producerId: string;
}

/**
 * The producer channel over RabbitMQ, for producers that already speak AMQP and would rather not
 * hold a WebSocket to the gateway. Each (re)connection gets a fresh connection id and an exclusive
 * queue bound to the command exchange with `producer.<producerId>`; ops go to the gateway's
 * producer queue. RabbitMQ has no notion of the gateway's end closing, so silence stands in for it:
 * no pong within a few heartbeats and the channel reconnects with a fresh hello, which makes the
 * gateway resend whatever it had not seen acknowledged.
 *
 * amqplib is an optional dependency, loaded only when this channel opens.
 */
export class AmqpChannel implements CommandChannel {
  #status: ChannelStatus = 'connecting';
  readonly #url: string;
  readonly #exchange: string;
  readonly #queue: string;
  readonly #reconnect: ReconnectOptions;
  #handlers: ChannelHandlers | undefined;
  #live: Live | undefined;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #lastHeard = 0;
  #busy = false;
  #closed = false;

  constructor(options: AmqpChannelOptions) {
    this.#url = options.url;
    this.#exchange = options.exchange ?? 'agent.commands';
    this.#queue = options.queue ?? 'agentwire.producers';
    this.#reconnect = { ...defaultReconnect, ...options.reconnect };
  }

  get status(): ChannelStatus {
    return this.#status;
  }

  open(handlers: ChannelHandlers): void {
    if (this.#handlers) throw new Error('This channel is already open.');
    this.#handlers = handlers;
    void this.#connect();
  }

  send(op: ProducerOp): boolean {
    const live = this.#live;
    if (this.#status !== 'connected' || !live) return false;
    return this.#publish(live, op);
  }

  keepAlive(busy: boolean): void {
    this.#busy = busy;
    this.#applyRef();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#watchdog);
    const live = this.#live;
    this.#live = undefined;
    this.#setStatus('closed');
    if (!live) return;
    this.#publish(live, { op: 'bye' });
    // Closing the channel first flushes the bye before the connection goes.
    await live.channel.close().catch(() => {});
    await live.model.close().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    this.#setStatus('connecting');
    let model: ChannelModel | undefined;
    try {
      const amqp = await loadAmqplib();
      model = await amqp.connect(this.#url);
      const channel = await model.createChannel();
      const hello = this.#handlers!.hello();
      const live: Live = { model, channel, connectionId: randomUUID(), producerId: hello.producerId };
      model.on('error', () => {
        // 'close' follows; reconnecting happens there.
      });
      channel.on('error', () => {});
      model.once('close', () => this.#lost(live, 'the RabbitMQ connection closed'));
      // The gateway declares its queue; a missing one means no gateway has started against this broker.
      await channel.checkQueue(this.#queue);
      await channel.assertExchange(this.#exchange, 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, this.#exchange, `producer.${live.producerId}`);
      await channel.consume(queue, (msg) => msg && this.#receive(live, msg), { noAck: true });
      if (this.#closed) {
        await model.close().catch(() => {});
        return;
      }
      this.#live = live;
      this.#applyRef();
      this.#lastHeard = Date.now();
      this.#startWatchdog(live, HELLO_TIMEOUT_MS);
      this.#publish(live, hello);
    } catch (err) {
      await model?.close().catch(() => {});
      if (this.#closed) return;
      this.#setStatus('disconnected', `cannot reach the gateway through RabbitMQ: ${(err as Error).message}`);
      this.#retry();
    }
  }

  #receive(live: Live, msg: ConsumeMessage): void {
    // Only ops for this connection: a previous one's leftovers (or another producer whose id makes
    // the same binding) are not ours.
    if (live !== this.#live || msg.properties.correlationId !== live.connectionId) return;
    this.#lastHeard = Date.now();
    let op;
    try {
      op = parseGatewayFrame(msg.content.toString('utf8'));
    } catch (err) {
      this.#handlers!.status(this.#status, `unreadable message from the gateway: ${(err as Error).message}`);
      return;
    }
    if (op.op === 'welcome') {
      this.#attempt = 0;
      this.#startWatchdog(live, op.heartbeatMs * DEAD_AFTER_HEARTBEATS);
      this.#setStatus('connected');
    }
    this.#handlers!.receive(op);
  }

  #publish(live: Live, op: ProducerOp): boolean {
    try {
      return live.channel.sendToQueue(this.#queue, Buffer.from(JSON.stringify(op)), {
        correlationId: live.connectionId,
        contentType: 'application/json',
        type: op.op,
        headers: { [PRODUCER_HEADER]: live.producerId },
      });
    } catch {
      return false; // the channel closed under us; 'close' reconnects
    }
  }

  /** This connection is over: tear it down and, unless closed for good, start another. */
  #lost(live: Live, detail: string): void {
    if (live !== this.#live) return;
    this.#live = undefined;
    clearInterval(this.#watchdog);
    void live.model.close().catch(() => {});
    if (this.#closed) return;
    this.#setStatus('disconnected', detail);
    this.#retry();
  }

  #retry(): void {
    const delay = reconnectDelay(this.#attempt++, this.#reconnect);
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
    this.#retryTimer.unref();
  }

  /** Reconnects after `deadMs` without a word from the gateway. */
  #startWatchdog(live: Live, deadMs: number): void {
    clearInterval(this.#watchdog);
    this.#watchdog = setInterval(
      () => {
        if (Date.now() - this.#lastHeard > deadMs) this.#lost(live, 'the gateway stopped answering');
      },
      Math.max(50, Math.min(deadMs / 4, 1_000)),
    );
    this.#watchdog.unref();
  }

  #applyRef(): void {
    // Only a busy producer keeps the process alive. amqplib exposes neither its socket nor its
    // heartbeat timers, so this reaches into them, and does nothing if their shape ever changes.
    const connection = (this.#live?.model as unknown as { connection?: AmqplibConnection } | undefined)
      ?.connection;
    const handles = [
      connection?.stream,
      connection?.heartbeater?.sendTimer,
      connection?.heartbeater?.recvTimer,
    ];
    for (const handle of handles) {
      if (this.#busy) handle?.ref?.();
      else handle?.unref?.();
    }
  }

  #setStatus(status: ChannelStatus, detail?: string): void {
    if (status === this.#status && detail === undefined) return;
    this.#status = status;
    this.#handlers?.status(status, detail);
  }
}

async function loadAmqplib(): Promise<typeof import('amqplib')> {
  try {
    return await import('amqplib');
  } catch {
    throw new Error('The AMQP command channel needs the amqplib package: npm install amqplib');
  }
}
