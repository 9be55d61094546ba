import type { Logger } from '../logger.js';
import type { ClusterNode } from './node.js';
import { CLAIM_OWNER, REFRESH_OWNERS, RELEASE_OWNER, runClusterScript } from './scripts.js';

/** Which node's producer runs a task. */
export interface TaskOwner {
  node: string;
  producer: string;
}

/** Told to another node when a task its producer owned is now owned here (`taken`). */
export interface TakenMessage {
  k: 'taken';
  stream: string;
  producer: string;
}

/** Most owner keys refreshed by one script call. */
const REFRESH_CHUNK = 500;

/**
 * The cluster's map of task → owning node, in Redis, mirroring each node's producer registry: when
 * a producer connected here claims a task, the task's owner key names this node; when the task ends
 * or the producer goes, the key goes (if it is still ours). Keys carry a TTL this node refreshes,
 * so the ownerships of a node that died unannounced expire by themselves.
 *
 * A claim returns the previous owner; when that was another node (the producer reconnected here
 * after its node went away, or another producer took the task over), that node is told `taken`, so
 * it stops counting the task as its producer's and will not mark it orphaned later.
 *
 * Writes for one task are chained, so a claim and a release that follow each other reach Redis in
 * that order; they are fire-and-forget for the registry, which must not wait on the network.
 */
export class TaskOwnership {
  /** Tasks whose producer is connected here, and that producer's id. */
  private readonly mine = new Map<string, string>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly node: ClusterNode,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.refresh(), Math.max(50, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  get size(): number {
    return this.mine.size;
  }

  /** The producer `producer`, connected to this node, owns `stream` (again). */
  claimed(stream: string, producer: string): void {
    if (this.closed) return;
    this.mine.set(stream, producer);
    const value = this.value(producer);
    this.chain(stream, async () => {
      const previous = (await runClusterScript(
        this.node.redis,
        CLAIM_OWNER,
        [this.node.keys.owner(stream)],
        [value, this.ttlMs],
      )) as string | null;
      const before = previous ? parseOwner(previous) : undefined;
      if (before && before.node !== this.node.id) {
        const taken: TakenMessage = { k: 'taken', stream, producer: before.producer };
        await this.node.send(before.node, taken);
      }
    });
  }

  /** No producer on this node owns `stream` any more. */
  released(stream: string): void {
    const producer = this.mine.get(stream);
    if (producer === undefined || this.closed) return;
    this.mine.delete(stream);
    const value = this.value(producer);
    this.chain(stream, async () => {
      await runClusterScript(this.node.redis, RELEASE_OWNER, [this.node.keys.owner(stream)], [value]);
    });
  }

  /** Who owns `stream` according to Redis (this node included); undefined when nobody does. */
  async lookup(stream: string): Promise<TaskOwner | undefined> {
    const value = await this.node.redis.get(this.node.keys.owner(stream));
    return value === null ? undefined : parseOwner(value);
  }

  /** Extends every ownership of this node that nobody else has taken meanwhile. */
  async refresh(): Promise<void> {
    const entries = [...this.mine];
    for (let i = 0; i < entries.length; i += REFRESH_CHUNK) {
      const chunk = entries.slice(i, i + REFRESH_CHUNK);
      try {
        await runClusterScript(
          this.node.redis,
          REFRESH_OWNERS,
          chunk.map(([stream]) => this.node.keys.owner(stream)),
          [this.ttlMs, ...chunk.map(([, producer]) => this.value(producer))],
        );
      } catch (err) {
        // The next round tries again; keys live three rounds, so one miss loses nothing.
        this.logger.warn({ err: (err as Error).message }, 'could not refresh task ownerships in Redis');
        return;
      }
    }
  }

  /** Lets go of every ownership, so other nodes stop sending this node commands at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.chains.values()]);
    const pipeline = this.node.redis.pipeline();
    for (const [stream, producer] of this.mine) {
      pipeline.evalsha(RELEASE_OWNER.sha, 1, this.node.keys.owner(stream), this.value(producer));
    }
    this.mine.clear();
    // EVALSHA may meet a Redis that never saw the script: load it first, then the pipeline runs.
    await this.node.redis.script('LOAD', RELEASE_OWNER.source).catch(() => undefined);
    await pipeline.exec().catch(() => undefined);
  }

  private value(producer: string): string {
    return `${this.node.id} ${producer}`;
  }

  private chain(stream: string, fn: () => Promise<void>): void {
    const previous = this.chains.get(stream) ?? Promise.resolve();
    const next = previous
      .then(fn)
      .catch((err: unknown) =>
        this.logger.warn({ err: (err as Error).message, stream }, 'could not record task ownership in Redis'),
      )
      .finally(() => {
        if (this.chains.get(stream) === next) this.chains.delete(stream);
      });
    this.chains.set(stream, next);
  }
}

function parseOwner(value: string): TaskOwner | undefined {
  const space = value.indexOf(' ');
  if (space <= 0) return undefined;
  return { node: value.slice(0, space), producer: value.slice(space + 1) };
}
