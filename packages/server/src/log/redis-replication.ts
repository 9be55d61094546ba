import type { Redis } from 'ioredis';
import { storageUnavailable } from './storage-health.js';

/**
 * Confirms group commits with Redis `WAIT numreplicas timeout` before they are acknowledged, so an
 * acknowledged event is on `replicas` replicas as well as the primary and survives a failover.
 *
 * WAIT blocks the connection it is sent on, and it covers every write sent before it on that
 * connection. So commits whose replies arrive while a WAIT is out share it instead of queueing
 * one each: a reply that arrives before the WAIT's reply was executed before the WAIT, since Redis
 * runs one connection's commands in order and holds the later ones until the WAIT returns.
 */
export class ReplicaWait {
  private pending: Promise<number> | undefined;
  /** WAIT calls sent, and the commits that shared one already out. */
  readonly counters = { waits: 0, shared: 0, refused: 0 };

  constructor(
    private readonly client: Redis,
    private readonly replicas: number,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves once `replicas` replicas have everything written so far; else storage_unavailable. */
  async confirm(): Promise<void> {
    let pending = this.pending;
    if (pending) this.counters.shared++;
    else {
      this.counters.waits++;
      pending = this.client.call('WAIT', this.replicas, this.timeoutMs) as Promise<number>;
      this.pending = pending;
      const clear = (): void => {
        if (this.pending === pending) this.pending = undefined;
      };
      pending.then(clear, clear);
    }
    const acknowledged = Number(await pending);
    if (acknowledged < this.replicas) {
      this.counters.refused++;
      // Stored on the primary but not confirmed: a retry with the same ids is answered as a
      // duplicate once replicas confirm, and stored again if the primary was lost meanwhile.
      throw storageUnavailable('NOREPLICAS');
    }
  }
}
