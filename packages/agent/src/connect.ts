import { isProducerPort, type AgentwireError } from '@agentwire/protocol';
import type { ChannelStatus, CommandChannel } from './channel/command-channel.js';
import { AmqpChannel, type AmqpChannelOptions } from './channel/amqp-channel.js';
import { InProcessChannel } from './channel/in-process-channel.js';
import { WebSocketChannel } from './channel/websocket-channel.js';
import { CommandSession } from './command-session.js';
import { createHttpPublisher, type HttpPublisherOptions } from './http-publisher.js';
import { newId } from './ids.js';
import { Outbox, type PublishErrorListener } from './outbox.js';
import { Producer } from './producer.js';
import type { Publisher } from './publisher.js';
import { defaultRetryPolicy, type ReconnectOptions, type RetryPolicy } from './retry.js';

export interface CommonConnectOptions {
  retry?: Partial<RetryPolicy>;
  /** Most events one request carries; the gateway may still ask for fewer, and batches then split. */
  maxBatchSize?: number;
  onError?: PublishErrorListener;
  /**
   * How watchers' commands reach this producer. By default a WebSocket to the gateway's
   * `/v1/producer` (with `url`) or direct calls (with an in-process gateway as `publisher`), opened
   * with the first task or worker kind. `{ amqp: 'amqp://…' }` takes commands through RabbitMQ
   * instead (the gateway must run with `amqp` configured; needs the optional `amqplib` package).
   * Pass your own channel, or `false` for none.
   */
  commands?: CommandChannel | AmqpCommandsOptions | false;
  /** Identifies this producer to the gateway across reconnections. Default: a random id. */
  producerId?: string;
  /** A name watchers and logs see, e.g. `research-worker-3`. */
  name?: string;
  /** Backoff of the command channel's reconnections. */
  reconnect?: Partial<ReconnectOptions>;
  /** Told when the command channel connects, drops or closes. */
  onCommandStatus?: (status: ChannelStatus, detail?: string) => void;
  /** Told about what goes wrong on the command channel: ops the gateway refused, chat handlers that threw. */
  onCommandError?: (error: AgentwireError) => void;
}

/** Commands through RabbitMQ: the broker URL, and the names if the gateway changed them. */
export interface AmqpCommandsOptions extends Omit<AmqpChannelOptions, 'url' | 'reconnect'> {
  amqp: string;
}

/** Talk to a gateway in another process over its HTTP API. */
export interface HttpConnectOptions extends CommonConnectOptions, HttpPublisherOptions {
  publisher?: never;
}

/** Publish straight into a gateway (or anything else implementing Publisher) in this process. */
export interface InProcessConnectOptions extends CommonConnectOptions {
  publisher: Publisher;
  url?: never;
}

export type ConnectOptions = HttpConnectOptions | InProcessConnectOptions;

export function connect(options: ConnectOptions): Producer {
  // Types already demand one of the two; this is for JavaScript callers and bad config files.
  const url = (options as { url?: unknown }).url;
  const urlGiven = typeof url === 'string' || (Array.isArray(url) && url.length > 0);
  if (!options.publisher && !urlGiven) {
    throw new TypeError('connect() needs either { url } of a gateway (or a list of nodes) or { publisher }.');
  }
  const publisher = options.publisher ?? createHttpPublisher(options as HttpConnectOptions);
  const outbox = new Outbox({
    publisher,
    retry: { ...defaultRetryPolicy, ...options.retry },
    maxBatchSize: Math.max(1, options.maxBatchSize ?? 100),
    onError: options.onError,
  });
  const channel = commandChannel(options);
  const session =
    channel &&
    new CommandSession(channel, {
      producerId: options.producerId ?? newId(),
      ...(options.name !== undefined && { name: options.name }),
      ...(options.onCommandStatus && { onStatus: options.onCommandStatus }),
      ...(options.onCommandError && { onError: options.onCommandError }),
    });
  return new Producer(outbox, session);
}

function commandChannel(options: ConnectOptions): CommandChannel | undefined {
  if (options.commands === false) return undefined;
  if (options.commands && 'amqp' in options.commands) {
    const { amqp, ...names } = options.commands;
    return new AmqpChannel({
      url: amqp,
      ...names,
      ...(options.reconnect !== undefined && { reconnect: options.reconnect }),
    });
  }
  if (options.commands) return options.commands;
  if (options.publisher)
    return isProducerPort(options.publisher) ? new InProcessChannel(options.publisher) : undefined;
  const http = options as HttpConnectOptions;
  return new WebSocketChannel({
    url: http.url,
    ...(http.token !== undefined && { token: http.token }),
    ...(http.headers !== undefined && { headers: http.headers }),
    ...(options.reconnect !== undefined && { reconnect: options.reconnect }),
  });
}
