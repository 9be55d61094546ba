export interface ReconnectOptions {
  /** First wait after a lost connection, in ms. Default 100. */
  minDelayMs: number;
  /** Longest wait between attempts, in ms. Default 5 000. */
  maxDelayMs: number;
}

export const defaultReconnect: ReconnectOptions = { minDelayMs: 100, maxDelayMs: 5_000 };

/** Exponential backoff with full jitter, so a restarted gateway is not hit by every producer at once. */
export function reconnectDelay(attempt: number, options: ReconnectOptions): number {
  const cap = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** Math.min(attempt, 20));
  return Math.max(options.minDelayMs, Math.round(Math.random() * cap));
}
