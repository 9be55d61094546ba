import { AgentwireError } from '@agentwire/protocol';
import { messageOf } from '../error-text.js';
import type { Logger } from '../logger.js';
import { producerIdTakenMessage, type ProducerIdBinding } from '../producers/id-binding.js';
import type { ClusterNode } from './node.js';
import { BIND_PRODUCER, REFRESH_PRODUCERS, runClusterScript } from './scripts.js';

/** Most binding keys refreshed by one script call. */
const REFRESH_CHUNK = 500;

/**
 * Which credential each producer id belongs to, across the nodes: a hello on any node is refused
 * when another identity holds the id in Redis. A node holds the ids of its producers while they
 * live there and refreshes them; it never deletes one, since the same producer may be connected
 * to another node by now: an id lapses `ttlMs` after no node holds it any more.
 */
export class ClusterProducerIds implements ProducerIdBinding {
  /** Producer ids held by producers of this node, and their identities. */
  private readonly mine = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly node: ClusterNode,
    private readonly ttlMs: number,
    private readonly logger: Logger,
    /** Whether a producer of this id is still known here (a hello refused after `bind` left none). */
    private readonly live: (producerId: string) => boolean,
  ) {
    this.timer = setInterval(() => void this.refresh(), Math.max(50, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  async bind(producerId: string, identity: string): Promise<void> {
    let bound: unknown;
    try {
      bound = await runClusterScript(
        this.node.redis,
        BIND_PRODUCER,
        [this.node.keys.producer(producerId)],
        [identity, this.ttlMs],
      );
    } catch (err) {
      throw new AgentwireError(
        'unavailable',
        `Cannot check the producer id across the cluster: ${messageOf(err)}`,
      );
    }
    if (bound !== 1) throw new AgentwireError('producer_id_taken', producerIdTakenMessage(producerId));
    this.mine.set(producerId, identity);
  }

  release(producerId: string): void {
    this.mine.delete(producerId);
  }

  async refresh(): Promise<void> {
    for (const id of [...this.mine.keys()]) if (!this.live(id)) this.mine.delete(id);
    const entries = [...this.mine];
    for (let i = 0; i < entries.length; i += REFRESH_CHUNK) {
      const chunk = entries.slice(i, i + REFRESH_CHUNK);
      try {
        await runClusterScript(
          this.node.redis,
          REFRESH_PRODUCERS,
          chunk.map(([id]) => this.node.keys.producer(id)),
          [this.ttlMs, ...chunk.map(([, identity]) => identity)],
        );
      } catch (err) {
        // Bindings live three rounds: the next round makes up for this one.
        this.logger.warn({ err: messageOf(err) }, 'could not refresh producer ids in Redis');
        return;
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.mine.clear();
  }
}
