import type { Logger } from '../logger.js';
import type { ProducerOptions } from '../producers/options.js';
import type { ProducerRegistry } from '../producers/registry.js';
import { ClusterLimits } from './limits.js';
import { ClusterNode } from './node.js';
import { TaskOwnership, type TakenMessage } from './ownership.js';
import { ClusterPresence, type LocalReport } from './presence.js';
import { ClusterProducerIds } from './producer-ids.js';
import { ClusterProducers } from './producers.js';
import { CommandRelay } from './relay.js';

export interface ClusterOptions {
  /** The Redis of the log, and its key prefix (the cluster is the nodes sharing both). */
  url: string;
  prefix: string;
  /** This node's id; pass the Redis engine's so both name the node alike. */
  nodeId?: string;
  registry: ProducerRegistry;
  producerOptions: ProducerOptions;
  logger: Logger;
  /** This node's counts, read at every presence round. */
  report: () => LocalReport;
  /** How often presence is exchanged. Default 2 s; reports live three intervals. */
  presenceIntervalMs?: number;
  /** How long a task ownership lives in Redis without being refreshed. Default 15 s. */
  ownerTtlMs?: number;
  /** This node's connections per user, for the cluster-wide per-user limit. */
  localConnections?: () => ReadonlyMap<string, number>;
}

/**
 * Everything that makes several gateway nodes on one Redis act as one besides the shared log:
 * presence and connection counts, task ownership, and commands relayed to the node a task's
 * producer is connected to. The router uses `producers` in place of the local registry.
 */
export class Cluster {
  private readonly unwatch: () => void;
  private readonly unlisten: () => void;

  private constructor(
    readonly node: ClusterNode,
    readonly presence: ClusterPresence,
    readonly ownership: TaskOwnership,
    readonly producerIds: ClusterProducerIds,
    readonly relay: CommandRelay,
    readonly producers: ClusterProducers,
    readonly limits: ClusterLimits,
    registry: ProducerRegistry,
    logger: Logger,
  ) {
    // The registry says who owns what here; Redis says it to the other nodes.
    this.unwatch = registry.watchOwners((stream, owner) => {
      if (owner) ownership.claimed(stream, owner.id);
      else ownership.released(stream);
    });
    this.unlisten = node.onMessage((message) => {
      if (message.k !== 'taken') return;
      const { stream, producer } = message as unknown as TakenMessage;
      if (typeof stream !== 'string') return;
      const owner = registry.ownerOf(stream);
      if (!owner || owner.id !== producer) return;
      // The producer is connected here again (it came back before this news arrived): it is the
      // owner after all, so say so again; otherwise it runs the task elsewhere now.
      if (owner.connected) ownership.claimed(stream, owner.id);
      else {
        logger.debug({ stream, producer }, 'task now owned on another node');
        registry.release(stream);
      }
    });
  }

  static async open(options: ClusterOptions): Promise<Cluster> {
    const { logger, registry } = options;
    const node = await ClusterNode.open({
      url: options.url,
      prefix: options.prefix,
      ...(options.nodeId !== undefined && { nodeId: options.nodeId }),
      onConnectionError: (err) => logger.warn({ err: err.message }, 'cluster connection error'),
    });
    const presence = new ClusterPresence(node, options.report, options.presenceIntervalMs ?? 2_000, logger);
    const ownership = new TaskOwnership(node, options.ownerTtlMs ?? 15_000, logger);
    const producerIds = new ClusterProducerIds(
      node,
      options.ownerTtlMs ?? 15_000,
      logger,
      (id) => registry.find(id) !== undefined,
    );
    registry.bindIdsWith(producerIds);
    const relay = new CommandRelay(node, registry, options.producerOptions, logger);
    const producers = new ClusterProducers({
      node,
      registry,
      ownership,
      presence,
      relay,
      options: options.producerOptions,
    });
    const limits = new ClusterLimits(
      node,
      { localConnections: options.localConnections ?? (() => new Map()) },
      logger,
    );
    const cluster = new Cluster(
      node,
      presence,
      ownership,
      producerIds,
      relay,
      producers,
      limits,
      registry,
      logger,
    );
    await presence.refresh();
    return cluster;
  }

  /** For `/v1/stats`: this node's id and the cluster-wide sums. */
  stats(): Record<string, unknown> {
    return {
      node: this.node.id,
      ...this.presence.totals(),
      ownedTasksHere: this.ownership.size,
      relayedCommandsWaiting: this.relay.size,
    };
  }

  /** Leaves the cluster: fails relayed commands still waiting, drops this node's ownerships and report. */
  async close(): Promise<void> {
    this.unwatch();
    this.unlisten();
    this.relay.close();
    this.producerIds.close();
    this.limits.close();
    await Promise.all([this.ownership.close(), this.presence.close()]);
    await this.node.close();
  }
}
