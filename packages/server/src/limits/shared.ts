/**
 * Limits kept for the whole cluster rather than per node (the Redis engine provides them). Either
 * may throw when its store is unreachable; the limiters then fall back to their own node's count.
 */
export interface SharedConnectionSlots {
  /** Takes one of `subject`'s slots cluster-wide: true when taken, false when it holds `max` already. */
  take(subject: string, max: number): Promise<boolean>;
  /** Gives back a slot `take` took (best effort: the holder's periodic report corrects a lost one). */
  give(subject: string): void;
}

export interface SharedIngestBuckets {
  /** Spends `cost` of `producer`'s tokens: 0 when admitted, else how many ms until there are enough. */
  spend(producer: string, ratePerSecond: number, burst: number, cost: number): Promise<number>;
}

/**
 * How long a limiter waits for the shared store before deciding on its own node's count: a hung
 * Redis must not hold every handshake and ingest request.
 */
export const SHARED_LIMIT_TIMEOUT_MS = 1_000;

/** Resolves as `promise` does, or rejects once `ms` have passed. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
