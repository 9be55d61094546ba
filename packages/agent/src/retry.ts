import { AgentwireError } from '@agentwire/protocol';

export interface RetryPolicy {
  /** Attempts per batch, the first one included. */
  attempts: number;
  /** Backoff before the second attempt; it doubles per attempt up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited out: the batch fails instead of hanging. */
  maxRetryAfterMs: number;
}

// Eight attempts ride out a gateway restart of roughly ten seconds.
export const defaultRetryPolicy: RetryPolicy = {
  attempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 60_000,
};

/**
 * Only typed errors a publisher chose to raise are retried, and only the transient ones (5xx, 429).
 * Anything else thrown by an in-process publisher is a bug there, and retrying would only delay it.
 */
export function isRetryable(err: unknown): boolean {
  return err instanceof AgentwireError && (err.status === 429 || err.status >= 500);
}

/** The server's own wait hint, carried by errors that came with a Retry-After header. */
export function retryAfterOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('retryAfterMs' in err)) return undefined;
  const value = (err as { retryAfterMs: unknown }).retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * How long to wait before attempt `failedAttempts + 1`, or undefined to give up. Jitter keeps a fleet
 * of producers that failed together from retrying together.
 */
export function retryDelay(
  failedAttempts: number,
  err: unknown,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (failedAttempts >= policy.attempts || !isRetryable(err)) return undefined;
  const hinted = retryAfterOf(err);
  if (hinted !== undefined) {
    if (hinted > policy.maxRetryAfterMs) return undefined;
    return hinted + random() * Math.min(hinted * 0.1, 1_000);
  }
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));
  return cap / 2 + (random() * cap) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
