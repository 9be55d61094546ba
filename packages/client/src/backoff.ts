/**
 * Reconnect delays: exponential growth capped at `maxDelayMs`, with jitter so that thousands of
 * clients dropped by one gateway restart do not all come back in the same millisecond.
 * `jitter: 1` is "full jitter" (uniform in [0, ceiling]); `jitter: 0` is the bare exponential.
 */
export interface BackoffOptions {
  minDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** Fraction of the ceiling that is randomised, 0..1. */
  jitter: number;
}

export const defaultBackoff: Readonly<BackoffOptions> = {
  minDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 1,
};

export class Backoff {
  readonly options: Readonly<BackoffOptions>;
  #attempt = 0;
  readonly #random: () => number;

  constructor(options: Partial<BackoffOptions> = {}, random: () => number = Math.random) {
    const o = { ...defaultBackoff, ...options };
    if (!(o.minDelayMs >= 0) || !(o.maxDelayMs >= o.minDelayMs) || !(o.factor >= 1)) {
      throw new RangeError('reconnect: need 0 <= minDelayMs <= maxDelayMs and factor >= 1');
    }
    o.jitter = Math.min(1, Math.max(0, o.jitter));
    this.options = o;
    this.#random = random;
  }

  /** How many delays were handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The upper bound of the delay for a given attempt (0-based). */
  ceiling(attempt: number): number {
    const { minDelayMs, maxDelayMs, factor } = this.options;
    // Clamping the exponent keeps the product finite (and not 0 * Infinity = NaN).
    const grown = minDelayMs * factor ** Math.min(attempt, 64);
    return Number.isFinite(grown) ? Math.min(maxDelayMs, grown) : maxDelayMs;
  }

  next(): number {
    const ceiling = this.ceiling(this.#attempt++);
    return Math.round(ceiling * (1 - this.options.jitter * this.#random()));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
