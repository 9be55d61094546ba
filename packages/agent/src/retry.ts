import { AgentwireError, backoffDelay, type BackoffOptions } from '@agentwire/protocol';

export interface RetryPolicy {
  /** Attempts per batch, the first one included. */
  attempts: number;
  /** Ceiling of the backoff before the second attempt; it doubles per attempt up to `maxDelayMs` (full jitter). */
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
  return backoffDelay(failedAttempts - 1, backoffOf(policy.baseDelayMs, policy.maxDelayMs), random);
}

export interface ReconnectOptions {
  /** Ceiling of the first wait after a lost connection, in ms. Default 100. */
  minDelayMs: number;
  /** Longest wait between attempts, in ms. Default 5 000. */
  maxDelayMs: number;
}

export const defaultReconnect: ReconnectOptions = { minDelayMs: 100, maxDelayMs: 5_000 };

/**
 * The wait before reconnection `attempt` (0-based): the shared backoff, doubling, with full
 * jitter, so a restarted gateway is not hit by every producer at once.
 */
export function reconnectDelay(
  attempt: number,
  options: ReconnectOptions,
  random: () => number = Math.random,
): number {
  return backoffDelay(attempt, backoffOf(options.minDelayMs, options.maxDelayMs), random);
}

function backoffOf(minDelayMs: number, maxDelayMs: number): BackoffOptions {
  return { minDelayMs, maxDelayMs: Math.max(minDelayMs, maxDelayMs), factor: 2, jitter: 1 };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
