import { AgentwireError } from '@agentwire/protocol';
import type { RefusalTally } from './refusal-tally.js';
import { TokenBucket } from './token-bucket.js';

/** Most producers whose buckets are remembered; the least recently used are forgotten first. */
const MAX_PRODUCERS = 10_000;

/**
 * Per-producer ingest rate: events per second per producer identity (API key or token subject),
 * refused with `rate_limited` (HTTP 429) before anything reaches the log. A refused batch is not
 * partially stored; the producer retries it whole after a backoff.
 */
export class IngestLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly eventsPerSecond: number,
    private readonly burst: number,
    private readonly tally?: RefusalTally,
  ) {}

  admit(producer: string, events: number, now = Date.now()): void {
    if (this.eventsPerSecond <= 0) return;
    let bucket = this.buckets.get(producer);
    if (bucket) {
      this.buckets.delete(producer);
    } else {
      bucket = new TokenBucket(this.eventsPerSecond, Math.max(this.burst, 1), now);
      if (this.buckets.size >= MAX_PRODUCERS) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(producer, bucket);
    // A batch larger than the burst could never pass; let it spend the bucket dry instead.
    const cost = Math.min(events, this.burst);
    if (!bucket.take(cost, now)) {
      this.tally?.note('rate_limited');
      throw new AgentwireError(
        'rate_limited',
        `Producer ingest is limited to ${this.eventsPerSecond} events per second; retry after a backoff.`,
        { limit: this.eventsPerSecond, retryAfterMs: bucket.waitMs(cost, now) },
      );
    }
  }
}
