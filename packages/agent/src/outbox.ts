import { AgentwireError, type EventType } from '@agentwire/protocol';
import { encodedData, prepareEvent, type PreparedEvent } from './prepare.js';
import type { Publisher } from './publisher.js';
import type { RetryPolicy } from './retry.js';
import { StreamQueue, toTyped, type Ack } from './stream-queue.js';

/** An event that could not be stored, as the caller described it. */
export interface FailedEvent {
  id?: string;
  type: string;
  data: unknown;
}

/**
 * Told about every event that was not stored (refused locally, refused by the gateway, or out of
 * retries), whether or not the caller awaited the call that sent it.
 */
export type PublishErrorListener = (
  error: AgentwireError,
  failed: { stream: string; events: FailedEvent[] },
) => void;

export interface OutboxOptions {
  publisher: Publisher;
  retry: RetryPolicy;
  maxBatchSize: number;
  onError?: PublishErrorListener;
}

/**
 * Every event a producer sends passes through here: validated, given its id, and queued on its
 * stream. The promises it hands out are pre-marked as handled, because producers routinely fire
 * `log()` or `delta()` without awaiting, and an unreachable gateway must not crash the agent with
 * an unhandled rejection; failures are reported to `onError` instead, and still reject for awaiters.
 */
export class Outbox {
  private readonly queues = new Map<string, StreamQueue>();
  private closed = false;

  constructor(private readonly options: OutboxOptions) {}

  publish(stream: string, type: EventType, data: unknown): Promise<number> {
    let event: PreparedEvent;
    try {
      event = prepareEvent(type, data);
    } catch (err) {
      return this.refuse(stream, err, [{ type, data }]);
    }
    return this.submit(stream, event);
  }

  /** Queues an event that `prepareEvent` already accepted; resolves with its seq. */
  submit(stream: string, event: PreparedEvent): Promise<number> {
    return quiet(this.submitForAck(stream, event).then((ack) => ack.seq));
  }

  /** Like submit(), but resolves with the whole acknowledgement. */
  submitForAck(stream: string, event: PreparedEvent): Promise<Ack> {
    if (this.closed) {
      return this.refuse(stream, new AgentwireError('unavailable', 'This producer is closed.'), [event]);
    }
    return quiet(this.queueFor(stream).push(event));
  }

  /** Queues events that `prepareEvent` already accepted, in order; resolves with every acknowledgement. */
  submitAll(stream: string, events: PreparedEvent[]): Promise<Ack[]> {
    if (this.closed) {
      return this.refuse(stream, new AgentwireError('unavailable', 'This producer is closed.'), events);
    }
    return quiet(this.queueFor(stream).pushAll(events));
  }

  /** Reports events that never reached a queue and hands back their (handled) rejection. */
  refuse(stream: string, err: unknown, events: FailedEvent[]): Promise<never> {
    const error = toTyped(err);
    this.report(error, stream, events);
    return quiet(Promise.reject(error));
  }

  /** Resolves once everything sent before the call has been stored or has failed. */
  async flush(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.settled()));
  }

  /** Whether nothing for `stream` is queued or in flight. */
  isIdle(stream: string): boolean {
    return this.queues.get(stream)?.idle ?? true;
  }

  /** Resolves once everything sent to `stream` so far has been stored or has failed. */
  async settleStream(stream: string): Promise<void> {
    await this.queues.get(stream)?.settled();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private queueFor(stream: string): StreamQueue {
    let queue = this.queues.get(stream);
    if (!queue) {
      queue = new StreamQueue({
        stream,
        send: (s, events) => {
          const { publisher } = this.options;
          const jsons = publisher.publishEncoded && encodedData(events);
          return jsons ? publisher.publishEncoded!(s, events, jsons) : publisher.publish(s, events);
        },
        retry: this.options.retry,
        maxBatchSize: this.options.maxBatchSize,
        onFailure: (error, events) => this.report(error, stream, events),
        // Finished tasks' queues are dropped so a long-running producer does not accumulate them.
        onIdle: (q) => {
          if (this.queues.get(stream) === q && q.idle) this.queues.delete(stream);
        },
      });
      this.queues.set(stream, queue);
    }
    return queue;
  }

  private report(error: AgentwireError, stream: string, events: FailedEvent[]): void {
    try {
      this.options.onError?.(error, { stream, events });
    } catch {
      // A throwing listener must not break the queue that called it.
    }
  }
}

export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
