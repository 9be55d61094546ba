import { AgentwireError } from '@agentwire/protocol';
import type { RefusalTally } from './refusal-tally.js';
import { SHARED_LIMIT_TIMEOUT_MS, within, type SharedConnectionSlots } from './shared.js';

/**
 * Counts the open connections of each user (the token's subject), so one user cannot exhaust
 * sockets or memory by opening connection after connection. Connections without a subject (an open
 * gateway) are not counted: there is no user to attribute them to.
 *
 * Alone it counts this node's connections. Given shared slots (several nodes on one Redis), a
 * connection also takes a slot there, so the limit holds across nodes; when the shared store does
 * not answer, this node's own count decides (the limit is then per node until it answers again).
 */
export class ConnectionLimiter {
  private readonly open = new Map<string, number>();
  private shared: SharedConnectionSlots | undefined;

  constructor(
    private readonly maxPerUser: () => number,
    private readonly tally?: RefusalTally,
    private readonly onSharedError?: (err: unknown) => void,
  ) {}

  /** Counts connections cluster-wide through `shared` from now on. */
  share(shared: SharedConnectionSlots): void {
    this.shared = shared;
  }

  /** Takes a slot for `subject`, or rejects with `too_many_connections`. Resolves with the release function. */
  async acquire(subject: string): Promise<() => void> {
    const max = this.maxPerUser();
    const current = this.open.get(subject) ?? 0;
    if (max > 0 && current >= max) throw this.refuse(max);
    // Counted here before the shared store answers, so this node's reports include it meanwhile.
    this.open.set(subject, current + 1);
    const shared = max > 0 ? this.shared : undefined;
    let taken = false;
    if (shared) {
      let verdict: boolean | undefined;
      try {
        verdict = await within(shared.take(subject, max), SHARED_LIMIT_TIMEOUT_MS);
      } catch (err) {
        this.onSharedError?.(err);
      }
      if (verdict === false) {
        this.decrement(subject);
        throw this.refuse(max);
      }
      taken = verdict === true;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.decrement(subject);
      if (taken) shared?.give(subject);
    };
  }

  count(subject: string): number {
    return this.open.get(subject) ?? 0;
  }

  /** Connections per user on this node: what it reports to the cluster. */
  counts(): ReadonlyMap<string, number> {
    return this.open;
  }

  /** Users with at least one connection, for stats. */
  get users(): number {
    return this.open.size;
  }

  private decrement(subject: string): void {
    const n = (this.open.get(subject) ?? 1) - 1;
    if (n <= 0) this.open.delete(subject);
    else this.open.set(subject, n);
  }

  private refuse(max: number): AgentwireError {
    this.tally?.note('too_many_connections');
    return new AgentwireError(
      'too_many_connections',
      `At most ${max} concurrent connections per user; close one first.`,
      { limit: max },
    );
  }
}
