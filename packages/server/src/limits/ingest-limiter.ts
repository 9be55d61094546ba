import { AgentwireError } from '@agentwire/protocol';
import type { RefusalTally } from './refusal-tally.js';
import { SHARED_LIMIT_TIMEOUT_MS, within, type SharedIngestBuckets } from './shared.js';
import { TokenBucket } from './token-bucket.js';

/** Most producers whose buckets are remembered; the least recently used are forgotten first. */
const MAX_PRODUCERS = 10_000;

/**
 * Per-producer ingest rate: events per second per producer identity (API key or token subject),
 * refused with `rate_limited` (HTTP 429) before anything reaches the log. A refused batch is not
 * partially stored; the producer retries it whole after a backoff.
 *
 * Given shared buckets (several nodes on one Redis), the bucket is the cluster's, so a producer
 * spreading batches over nodes gets the same rate as on one; when the shared store does not answer,
 * this node's own bucket decides.
 */
export class IngestLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private shared: SharedIngestBuckets | undefined;

  constructor(
    private readonly eventsPerSecond: number,
    private readonly burst: number,
    private readonly tally?: RefusalTally,
    private readonly onSharedError?: (err: unknown) => void,
  ) {}

  /** Limits through `shared` from now on. */
  share(shared: SharedIngestBuckets): void {
    this.shared = shared;
  }

  async admit(producer: string, events: number, now = Date.now()): Promise<void> {
    if (this.eventsPerSecond <= 0) return;
    const burst = Math.max(this.burst, 1);
    // A batch larger than the burst could never pass; let it spend the bucket dry instead.
    const cost = Math.min(events, burst);
    if (this.shared) {
      let waitMs: number | undefined;
      try {
        waitMs = await within(
          this.shared.spend(producer, this.eventsPerSecond, burst, cost),
          SHARED_LIMIT_TIMEOUT_MS,
        );
      } catch (err) {
        this.onSharedError?.(err);
      }
      if (waitMs !== undefined) {
        if (waitMs > 0) throw this.refuse(waitMs);
        return;
      }
    }
    const bucket = this.bucket(producer, burst, now);
    if (!bucket.take(cost, now)) throw this.refuse(bucket.waitMs(cost, now));
  }

  private bucket(producer: string, burst: number, now: number): TokenBucket {
    let bucket = this.buckets.get(producer);
    if (bucket) {
      this.buckets.delete(producer);
    } else {
      bucket = new TokenBucket(this.eventsPerSecond, burst, now);
      if (this.buckets.size >= MAX_PRODUCERS) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(producer, bucket);
    return bucket;
  }

  private refuse(retryAfterMs: number): AgentwireError {
    this.tally?.note('rate_limited');
    return new AgentwireError(
      'rate_limited',
      `Producer ingest is limited to ${this.eventsPerSecond} events per second; retry after a backoff.`,
      { limit: this.eventsPerSecond, retryAfterMs },
    );
  }
}
