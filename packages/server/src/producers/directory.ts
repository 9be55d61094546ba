import type { CommandDelivery } from '@agentwire/protocol';
import type { DeliverOptions } from './registry.js';
import type { NewTask } from './workers.js';

/** A producer a command can go to: a session in this process, or one on another gateway node. */
export interface ProducerTarget {
  readonly id: string;
}

/**
 * What the command router needs of the producers: who owns a task, which worker starts one, and
 * delivery with acknowledgements. The `ProducerRegistry` is this for one gateway; a cluster of
 * gateways puts its own in front (cluster/producers.ts), so the router is the same either way.
 */
export interface ProducerDirectory {
  /** The owner known to this node right now (no waiting). */
  ownerOf(stream: string): ProducerTarget | undefined;
  /** The owner of `stream`, waiting a moment for a claim that may trail the task's events. */
  awaitOwner(stream: string): Promise<ProducerTarget | undefined>;
  /**
   * The worker a new task of `kind` goes to: one whose credential may publish the task's
   * `task:start`; `no_worker` when none may or can take it.
   */
  pickWorker(kind: string, task: NewTask): ProducerTarget;
  /** Pre-assigns a task being started to its worker. */
  assign(target: ProducerTarget, stream: string): void;
  release(stream: string): void;
  deliver<R = unknown>(
    target: ProducerTarget,
    command: CommandDelivery,
    options?: DeliverOptions<R>,
  ): Promise<R>;
}
