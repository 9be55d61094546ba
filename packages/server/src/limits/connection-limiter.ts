import { AgentwireError } from '@agentwire/protocol';
import type { RefusalTally } from './refusal-tally.js';

/**
 * Counts the open connections of each user (the token's subject) on this gateway node, so one user
 * cannot exhaust sockets or memory by opening connection after connection. Connections without a
 * subject (an open gateway) are not counted: there is no user to attribute them to.
 */
export class ConnectionLimiter {
  private readonly open = new Map<string, number>();

  constructor(
    private readonly maxPerUser: () => number,
    private readonly tally?: RefusalTally,
  ) {}

  /** Takes a slot for `subject`, or throws `too_many_connections`. Returns the release function. */
  acquire(subject: string): () => void {
    const max = this.maxPerUser();
    const current = this.open.get(subject) ?? 0;
    if (max > 0 && current >= max) {
      this.tally?.note('too_many_connections');
      throw new AgentwireError(
        'too_many_connections',
        `At most ${max} concurrent connections per user; close one first.`,
        { limit: max },
      );
    }
    this.open.set(subject, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.open.get(subject) ?? 1) - 1;
      if (n <= 0) this.open.delete(subject);
      else this.open.set(subject, n);
    };
  }

  count(subject: string): number {
    return this.open.get(subject) ?? 0;
  }

  /** Users with at least one connection, for stats. */
  get users(): number {
    return this.open.size;
  }
}
