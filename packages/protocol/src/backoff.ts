/**
 * The one backoff of the SDKs (client reconnects and transport probes, producer reconnects and
 * publish retries): exponential growth from `minDelayMs` by `factor`, capped at `maxDelayMs`, with
 * jitter so that thousands of clients dropped by one gateway restart do not all come back in the
 * same millisecond. `jitter: 1` is "full jitter" (uniform in [0, ceiling]); `jitter: 0` is the
 * bare exponential.
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

/** The upper bound of the delay before retry `attempt` (0-based): `minDelayMs × factor^attempt`, capped. */
export function backoffCeiling(attempt: number, options: Readonly<BackoffOptions>): number {
  const { minDelayMs, maxDelayMs, factor } = options;
  // Clamping the exponent keeps the product finite (and not 0 * Infinity = NaN).
  const grown = minDelayMs * factor ** Math.min(Math.max(0, attempt), 64);
  return Number.isFinite(grown) ? Math.min(maxDelayMs, grown) : maxDelayMs;
}

/** The delay before retry `attempt` (0-based), jittered by `random` (uniform in [0, 1)). */
export function backoffDelay(
  attempt: number,
  options: Readonly<BackoffOptions>,
  random: () => number = Math.random,
): number {
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(backoffCeiling(attempt, options) * (1 - jitter * random()));
}

/** A backoff that counts its own attempts: `next()` after each failure, `reset()` after a success. */
export class Backoff {
  readonly options: Readonly<BackoffOptions>;
  #attempt = 0;
  readonly #random: () => number;

  constructor(options: Partial<BackoffOptions> = {}, random: () => number = Math.random) {
    const o = { ...defaultBackoff, ...options };
    if (!(o.minDelayMs >= 0) || !(o.maxDelayMs >= o.minDelayMs) || !(o.factor >= 1)) {
      throw new RangeError('backoff: need 0 <= minDelayMs <= maxDelayMs and factor >= 1');
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
    return backoffCeiling(attempt, this.options);
  }

  next(): number {
    return backoffDelay(this.#attempt++, this.options, this.#random);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
