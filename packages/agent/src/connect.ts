import { createHttpPublisher, type HttpPublisherOptions } from './http-publisher.js';
import { Outbox, type PublishErrorListener } from './outbox.js';
import { Producer } from './producer.js';
import type { Publisher } from './publisher.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry.js';

export interface CommonConnectOptions {
  retry?: Partial<RetryPolicy>;
  /** Most events one request carries; the gateway may still ask for fewer, and batches then split. */
  maxBatchSize?: number;
  onError?: PublishErrorListener;
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
  if (!options.publisher && typeof (options as { url?: unknown }).url !== 'string') {
    throw new TypeError('connect() needs either { url } of a gateway or { publisher }.');
  }
  const publisher = options.publisher ?? createHttpPublisher(options as HttpConnectOptions);
  const outbox = new Outbox({
    publisher,
    retry: { ...defaultRetryPolicy, ...options.retry },
    maxBatchSize: Math.max(1, options.maxBatchSize ?? 100),
    onError: options.onError,
  });
  return new Producer(outbox);
}
