import { AgentwireError } from '@agentwire/protocol';

export interface PendingAuthLimits {
  /** Per source address; 0 = no limit. */
  perAddress: number;
  /** On this node in all; 0 = no limit. */
  total: number;
}

/**
 * Counts connections that are open but not authenticated yet (a WebSocket waiting for its `auth`
 * op, a Socket.IO connection before its handshake), per source address and in all. Until they
 * authenticate they belong to no user, so the per-user limit cannot hold them; this does, for at
 * most the auth timeout each.
 */
export class PendingAuthLimiter {
  private readonly byAddress = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: () => PendingAuthLimits) {}

  /** Whether a connection from `address` would be refused now. */
  full(address: string): boolean {
    const { perAddress, total } = this.limits();
    return (
      (total > 0 && this.total >= total) ||
      (perAddress > 0 && (this.byAddress.get(address) ?? 0) >= perAddress)
    );
  }

  /** Takes a slot for a connection from `address`, or throws `too_many_connections`. Returns the release. */
  acquire(address: string): () => void {
    const { perAddress, total } = this.limits();
    if (total > 0 && this.total >= total) {
      throw new AgentwireError(
        'too_many_connections',
        `At most ${total} connections may wait to authenticate at once; authenticate on connect or retry later.`,
        { limit: total },
      );
    }
    const mine = this.byAddress.get(address) ?? 0;
    if (perAddress > 0 && mine >= perAddress) {
      throw new AgentwireError(
        'too_many_connections',
        `At most ${perAddress} connections from one address may wait to authenticate at once.`,
        { limit: perAddress },
      );
    }
    this.byAddress.set(address, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const n = (this.byAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.byAddress.delete(address);
      else this.byAddress.set(address, n);
    };
  }

  /** Connections waiting to authenticate right now, for stats. */
  get waiting(): number {
    return this.total;
  }
}
