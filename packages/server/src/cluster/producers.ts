import { AgentwireError, type CommandDelivery } from '@agentwire/protocol';
import type { ProducerDirectory, ProducerTarget } from '../producers/directory.js';
import type { ProducerOptions } from '../producers/options.js';
import type { DeliverOptions, ProducerRegistry } from '../producers/registry.js';
import type { ProducerSession } from '../producers/session.js';
import type { NewTask } from '../producers/workers.js';
import { grantAllowsStart } from '../auth/publish-grant.js';
import type { ClusterNode } from './node.js';
import type { TaskOwnership } from './ownership.js';
import type { ClusterPresence } from './presence.js';
import { RemoteProducer, type CommandRelay } from './relay.js';

/** How often a command for a task nobody owns yet looks again, while it waits for a claim. */
const CLAIM_POLL_MS = 50;

export interface ClusterProducersDeps {
  node: ClusterNode;
  registry: ProducerRegistry;
  ownership: TaskOwnership;
  presence: ClusterPresence;
  relay: CommandRelay;
  options: ProducerOptions;
}

/**
 * The producers of the whole cluster, as the command router sees them: a task's owner is the local
 * session when its producer is connected here, else a `RemoteProducer` on the node Redis names (if
 * that node is still there); a start goes to the least-loaded worker on any node. Delivery to a
 * remote producer goes through the relay; everything else is the local registry's.
 */
export class ClusterProducers implements ProducerDirectory {
  private readonly turn = new Map<string, number>();

  constructor(private readonly deps: ClusterProducersDeps) {}

  /** Local only: used where each node acts for its own producers (question timeouts). */
  ownerOf(stream: string): ProducerTarget | undefined {
    return this.deps.registry.ownerOf(stream);
  }

  async awaitOwner(stream: string): Promise<ProducerTarget | undefined> {
    const { registry, ownership, node } = this.deps;
    const deadline = Date.now() + this.deps.options.claimWaitMs;
    for (;;) {
      const local = registry.ownerOf(stream);
      if (local) return local;
      const owner = await ownership.lookup(stream);
      // A key naming this node without a local owner is a release still on its way: ignore it.
      // A node that no longer listens died without releasing; its producer will claim elsewhere.
      if (owner && owner.node !== node.id && (await node.isListening(owner.node))) {
        return new RemoteProducer(owner.node, owner.producer);
      }
      const left = deadline - Date.now();
      if (left <= 0) return registry.ownerOf(stream);
      await new Promise((resolve) => setTimeout(resolve, Math.min(CLAIM_POLL_MS, left)));
    }
  }

  pickWorker(kind: string, task: NewTask): ProducerTarget {
    let local: ProducerSession | undefined;
    let refusal: unknown;
    try {
      local = this.deps.registry.pickWorker(kind, task);
    } catch (err) {
      refusal = err;
    }
    const remote = this.deps.presence
      .workersElsewhere(kind)
      .filter((w) => w.capacity === undefined || w.tasks < w.capacity)
      .filter((w) => grantAllowsStart(w.grant, task.stream, task.projectId));
    if (remote.length === 0) {
      if (local) return local;
      throw refusal;
    }
    const least = Math.min(...remote.map((w) => w.tasks));
    // Prefer a worker here when it is as idle as the best elsewhere: no relay hop.
    if (local && local.load <= least) return local;
    const candidates = remote
      .filter((w) => w.tasks === least)
      .sort((a, b) => (a.node + a.producerId < b.node + b.producerId ? -1 : 1));
    const n = this.turn.get(kind) ?? 0;
    this.turn.set(kind, n + 1);
    const chosen = candidates[n % candidates.length];
    if (!chosen) throw refusal ?? new AgentwireError('no_worker');
    return new RemoteProducer(chosen.node, chosen.producerId);
  }

  assign(target: ProducerTarget, stream: string): void {
    // A remote worker's node assigns the task itself when the start reaches it.
    if (!(target instanceof RemoteProducer)) this.deps.registry.assign(target as ProducerSession, stream);
  }

  release(stream: string): void {
    this.deps.registry.release(stream);
  }

  deliver<R = unknown>(
    target: ProducerTarget,
    command: CommandDelivery,
    options: DeliverOptions<R> = {},
  ): Promise<R> {
    if (target instanceof RemoteProducer) return this.deps.relay.send(target, command, options);
    return this.deps.registry.deliver(target as ProducerSession, command, options);
  }
}
