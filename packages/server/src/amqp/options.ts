/** RabbitMQ ingest settings (docs/scaling.md). Names default to seed 002's topology. */
export interface AmqpIngestOptions {
  /** `amqp://user:pass@host:5672/vhost` (or `amqps://`). */
  url: string;
  /** Topic exchange producers publish to; declared durable. Default `agent.events`. */
  exchange?: string;
  /** Durable queue this gateway consumes; every gateway node shares it. Default `agentwire.ingest`. */
  queue?: string;
  /** Binding patterns of the queue on the exchange. Default `['#']`: everything. */
  bindingKeys?: string[];
  /** Where refused messages go, with the error code in a header. Default `<queue>.dead`. */
  deadQueue?: string;
  /** The dead-letter exchange (fanout) in front of the dead queue. Default `<queue>.dlx`. */
  deadExchange?: string;
  /** Unacknowledged messages in flight at once: the bound on memory and on each group commit. Default 256. */
  prefetch?: number;
  /** Larger messages are refused with `payload_too_large`. Default 1 MiB. */
  maxMessageBytes?: number;
  /**
   * Declare the queue with RabbitMQ's single active consumer (default true): one gateway node
   * consumes at a time and another takes over when it goes, so events of one stream are stored in
   * the order they were published. With false every node consumes at once (more throughput), and
   * two messages of one stream may be stored in either order. Fixed when the queue is first declared.
   */
  singleActiveConsumer?: boolean;
  /**
   * Topic exchange the gateway publishes producers' commands to, with routing key
   * `producer.<producerId>`; declared durable. Default `agent.commands`.
   */
  commandExchange?: string;
  /**
   * Durable queue producers connected through RabbitMQ publish their channel ops to (hello, claim,
   * worker, ack, ping, bye), through the default exchange. Declared with single active consumer, so
   * one gateway node holds every such producer at a time. Default `agentwire.producers`.
   */
  producerQueue?: string;
}

export type ResolvedAmqpOptions = Required<AmqpIngestOptions>;

export const DEFAULT_AMQP_EXCHANGE = 'agent.events';
export const DEFAULT_AMQP_QUEUE = 'agentwire.ingest';
export const DEFAULT_COMMAND_EXCHANGE = 'agent.commands';
export const DEFAULT_PRODUCER_QUEUE = 'agentwire.producers';

export function resolveAmqpOptions(options: AmqpIngestOptions): ResolvedAmqpOptions {
  const queue = options.queue ?? DEFAULT_AMQP_QUEUE;
  return {
    url: options.url,
    exchange: options.exchange ?? DEFAULT_AMQP_EXCHANGE,
    queue,
    bindingKeys: options.bindingKeys ?? ['#'],
    deadQueue: options.deadQueue ?? `${queue}.dead`,
    deadExchange: options.deadExchange ?? `${queue}.dlx`,
    prefetch: options.prefetch ?? 256,
    maxMessageBytes: options.maxMessageBytes ?? 1024 * 1024,
    singleActiveConsumer: options.singleActiveConsumer ?? true,
    commandExchange: options.commandExchange ?? DEFAULT_COMMAND_EXCHANGE,
    producerQueue: options.producerQueue ?? DEFAULT_PRODUCER_QUEUE,
  };
}

/** Headers a dead-lettered message carries, besides its own. */
export const DEAD_LETTER_HEADERS = {
  code: 'x-agentwire-error-code',
  message: 'x-agentwire-error-message',
  exchange: 'x-agentwire-exchange',
  routingKey: 'x-agentwire-routing-key',
} as const;
