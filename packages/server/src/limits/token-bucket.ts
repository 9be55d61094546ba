/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`; each take spends one.
 * Time comes from the caller's clock so tests and callers share one notion of now.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Spends `count` tokens if there are that many; false (and nothing spent) otherwise. */
  take(count = 1, now = Date.now()): boolean {
    this.refill(now);
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** How long until `count` tokens are there, in ms (0 when they are now); never more than a full refill. */
  waitMs(count = 1, now = Date.now()): number {
    this.refill(now);
    const missing = Math.min(count, this.burst) - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing / this.ratePerSecond) * 1000);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerSecond);
  }
}
