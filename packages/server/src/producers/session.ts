import { grantAllowsStart, type PublishGrant } from '../auth/publish-grant.js';
import type { ProducerCredential } from './credential.js';
import { DeliveryQueue } from './delivery.js';
import type { ProducerLink } from './link.js';

/**
 * What the gateway knows about one producer. It outlives the producer's connections: a producer
 * that drops and comes back within `orphanAfterMs` finds its tasks and its queued commands here.
 */
export class ProducerSession {
  readonly queue = new DeliveryQueue();
  /** Task streams this producer owns. */
  readonly streams = new Set<string>();
  kinds: readonly string[] = [];
  capacity: number | undefined;
  name: string | undefined;
  link: ProducerLink | undefined;
  /** Effects of acknowledged commands still being recorded; a leaving producer's tasks wait for them. */
  readonly recording = new Set<Promise<unknown>>();
  lastSeen: number;
  readonly connectedAt: number;
  /** The credential that said hello first; only it may connect as this producer. */
  readonly identity: string;
  /** What that credential may publish: which new tasks this producer can be asked to start. */
  readonly grant: PublishGrant;

  constructor(
    readonly id: string,
    now: number,
    credential: ProducerCredential,
  ) {
    this.lastSeen = now;
    this.connectedAt = now;
    this.identity = credential.identity;
    this.grant = credential.grant;
  }

  get connected(): boolean {
    return this.link !== undefined;
  }

  /** Tasks running plus starts on their way: what load sharing compares. */
  get load(): number {
    return this.streams.size + this.queue.countStarts();
  }

  /** Whether this producer takes another task of `kind` now. */
  accepts(kind: string): boolean {
    return (
      this.connected &&
      this.kinds.includes(kind) &&
      (this.capacity === undefined || this.load < this.capacity)
    );
  }

  /** Whether its credential may publish the `task:start` of the new task `stream` in `projectId`. */
  mayStart(stream: string, projectId: string | undefined): boolean {
    return grantAllowsStart(this.grant, stream, projectId);
  }

  describe(): Record<string, unknown> {
    return {
      producerId: this.id,
      ...(this.name !== undefined && { name: this.name }),
      connected: this.connected,
      tasks: this.streams.size,
      kinds: this.kinds,
      ...(this.capacity !== undefined && { capacity: this.capacity }),
      queued: this.queue.size,
      lastSeen: this.lastSeen,
    };
  }
}
