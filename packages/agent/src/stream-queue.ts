import { AgentwireError } from '@agentwire/protocol';
import type { PreparedEvent } from './prepare.js';
import type { PublishResult } from './publisher.js';
import { retryDelay, sleep, type RetryPolicy } from './retry.js';

/** How the gateway stored one event; `duplicate` when an earlier attempt had already stored it. */
export interface Ack {
  id: string;
  seq: number;
  duplicate: boolean;
}

/** The events of one call: its promise settles once, when the last is stored or the first fails. */
interface Call {
  acks: Ack[];
  remaining: number;
  done: boolean;
  resolve(acks: Ack[]): void;
  reject(err: AgentwireError): void;
}

interface Pending {
  event: PreparedEvent;
  call: Call;
  index: number;
}

function acked(p: Pending, ack: Ack): void {
  const { call } = p;
  call.acks[p.index] = ack;
  if (--call.remaining === 0 && !call.done) {
    call.done = true;
    call.resolve(call.acks);
  }
}

function failed(p: Pending, err: AgentwireError): void {
  if (p.call.done) return;
  p.call.done = true;
  p.call.reject(err);
}

export interface StreamQueueOptions {
  stream: string;
  send(stream: string, events: PreparedEvent[]): Promise<PublishResult>;
  retry: RetryPolicy;
  maxBatchSize: number;
  /** A batch failed for good; its events' promises are already rejected. */
  onFailure(error: AgentwireError, events: PreparedEvent[]): void;
  onIdle(queue: StreamQueue): void;
}

// The gateway refuses a batch too big for its limits as a whole; smaller batches may pass.
const splittable = new Set(['too_many_events', 'payload_too_large']);

/**
 * Keeps one stream's events in call order: one batch in flight at a time, and whatever was queued
 * meanwhile goes out together as the next batch. Each event's promise settles with how it was stored.
 */
export class StreamQueue {
  private readonly pending: Pending[] = [];
  private sending = false;
  // Events settle in push order, so "everything pushed so far has settled" is a count: cheaper
  // than chaining a promise onto every push.
  private pushed = 0;
  private settledCount = 0;
  private readonly waiters: { upTo: number; resolve: () => void }[] = [];

  constructor(private readonly options: StreamQueueOptions) {}

  get idle(): boolean {
    return !this.sending && this.pending.length === 0;
  }

  push(event: PreparedEvent): Promise<Ack> {
    return new Promise<Ack>((resolve, reject) => this.enqueue([event], (acks) => resolve(acks[0]!), reject));
  }

  /** Queues several events as one call: one promise for all of them, not one per event. */
  pushAll(events: PreparedEvent[]): Promise<Ack[]> {
    return new Promise<Ack[]>((resolve, reject) => this.enqueue(events, resolve, reject));
  }

  private enqueue(
    events: PreparedEvent[],
    resolve: (acks: Ack[]) => void,
    reject: (err: AgentwireError) => void,
  ): void {
    const call: Call = {
      acks: new Array<Ack>(events.length),
      remaining: events.length,
      done: false,
      resolve,
      reject,
    };
    events.forEach((event, index) => this.pending.push({ event, call, index }));
    this.pushed += events.length;
    if (events.length === 0) resolve([]);
    if (!this.sending) void this.drain();
  }

  /** Settles once every event pushed so far has settled; later pushes do not hold it up. */
  settled(): Promise<void> {
    if (this.settledCount >= this.pushed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ upTo: this.pushed, resolve }));
  }

  private markSettled(count: number): void {
    this.settledCount += count;
    while (this.waiters[0] && this.waiters[0].upTo <= this.settledCount) this.waiters.shift()!.resolve();
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.pending.length > 0) {
        await this.deliver(this.pending.splice(0, this.options.maxBatchSize));
      }
    } finally {
      this.sending = false;
      this.options.onIdle(this);
    }
  }

  private async deliver(batch: Pending[]): Promise<void> {
    const events = batch.map((p) => p.event);
    let result: PublishResult;
    try {
      result = await this.publishWithRetry(events);
    } catch (err) {
      const error = toTyped(err);
      if (batch.length > 1 && splittable.has(error.code)) {
        const half = Math.ceil(batch.length / 2);
        await this.deliver(batch.slice(0, half));
        await this.deliver(batch.slice(half));
        return;
      }
      for (const p of batch) failed(p, error);
      this.options.onFailure(error, events);
      this.markSettled(batch.length);
      return;
    }
    // The gateway answers in the order it was asked; matching by id is the fallback, not the rule.
    const { results } = result;
    let byId: Map<string, PublishResult['results'][number]> | undefined;
    const missing: PreparedEvent[] = [];
    batch.forEach((p, i) => {
      let ack = results[i];
      if (ack?.id !== p.event.id) {
        byId ??= new Map(results.map((r) => [r.id, r]));
        ack = byId.get(p.event.id);
      }
      if (ack !== undefined) {
        acked(p, { id: ack.id, seq: ack.seq, duplicate: ack.duplicate });
        return;
      }
      missing.push(p.event);
      failed(p, new AgentwireError('internal', `The gateway did not acknowledge event ${p.event.id}.`));
    });
    if (missing.length > 0) {
      this.options.onFailure(
        new AgentwireError('internal', 'The gateway did not acknowledge every event.'),
        missing,
      );
    }
    this.markSettled(batch.length);
  }

  private async publishWithRetry(events: PreparedEvent[]): Promise<PublishResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.options.send(this.options.stream, events);
      } catch (err) {
        const delay = retryDelay(attempt, err, this.options.retry);
        if (delay === undefined) throw err;
        await sleep(delay);
      }
    }
  }
}

export function toTyped(err: unknown): AgentwireError {
  if (err instanceof AgentwireError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AgentwireError('internal', `Publishing failed: ${message}`);
}
