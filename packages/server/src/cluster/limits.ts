import type { SharedConnectionSlots, SharedIngestBuckets } from '../limits/shared.js';
import type { Logger } from '../logger.js';
import type { ClusterNode } from './node.js';
import { GIVE_CONNECTION, runClusterScript, TAKE_CONNECTION, TAKE_TOKENS } from './scripts.js';

export interface ClusterLimitsOptions {
  /** This node's connections per user, as its limiter counts them. */
  localConnections: () => ReadonlyMap<string, number>;
  /** How often this node writes its counts back (correcting what a lost give or a Redis restart left). Default 10 s. */
  refreshMs?: number;
}

/**
 * The per-user connection limit and the per-producer ingest rate, kept in Redis for every node.
 *
 * Connections: one hash per user, a field per node with that node's count. Taking a slot is one
 * script that sums the fields of live nodes (those in the presence `nodes` set and not expired
 * there, dropping the others) and increments this node's field if the sum is under the limit, so
 * two nodes racing for the last slot cannot both get it. A killed node's slots return once its
 * presence report expires (three presence intervals). Each node writes its exact counts back every
 * `refreshMs`, which also renews the hashes' TTL.
 *
 * Ingest: one token bucket per producer, refilled by Redis's clock inside one script.
 */
export class ClusterLimits implements SharedConnectionSlots, SharedIngestBuckets {
  private readonly timer: NodeJS.Timeout;
  private readonly refreshMs: number;
  private reported = new Set<string>();
  private round: Promise<void> | undefined;

  constructor(
    private readonly node: ClusterNode,
    private readonly options: ClusterLimitsOptions,
    private readonly logger: Logger,
  ) {
    this.refreshMs = options.refreshMs ?? 10_000;
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  private get slotTtlMs(): number {
    return this.refreshMs * 3;
  }

  async take(subject: string, max: number): Promise<boolean> {
    const { redis, keys, id } = this.node;
    const reply = (await runClusterScript(
      redis,
      TAKE_CONNECTION,
      [keys.connections(subject), keys.nodes],
      [id, max, this.slotTtlMs, Date.now()],
    )) as [number, number];
    return Number(reply[0]) === 1;
  }

  give(subject: string): void {
    const { redis, keys, id } = this.node;
    runClusterScript(redis, GIVE_CONNECTION, [keys.connections(subject)], [id]).catch((err: unknown) =>
      this.logger.debug({ err, subject }, 'could not give a connection slot back; the next refresh will'),
    );
  }

  async spend(producer: string, ratePerSecond: number, burst: number, cost: number): Promise<number> {
    const reply = await runClusterScript(
      this.node.redis,
      TAKE_TOKENS,
      [this.node.keys.ingestRate(producer)],
      [ratePerSecond, burst, cost],
    );
    return Number(reply);
  }

  /** Writes this node's counts as they are now, and drops its fields of users it no longer holds. */
  refresh(): Promise<void> {
    this.round ??= this.write().finally(() => (this.round = undefined));
    return this.round;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async write(): Promise<void> {
    const { redis, keys, id } = this.node;
    const counts = this.options.localConnections();
    const now = new Set<string>();
    const batch = redis.pipeline();
    for (const [subject, n] of counts) {
      if (n <= 0) continue;
      now.add(subject);
      batch.hset(keys.connections(subject), id, n).pexpire(keys.connections(subject), this.slotTtlMs);
    }
    for (const subject of this.reported) if (!now.has(subject)) batch.hdel(keys.connections(subject), id);
    if (batch.length === 0) return;
    try {
      await batch.exec();
      this.reported = now;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not write connection counts to the cluster');
    }
  }
}
