import type { AnyEventInput } from '@agentwire/protocol';
import { AmqpProducerEndpoint } from '../amqp/producer-endpoint.js';
import { Cluster } from '../cluster/cluster.js';
import type { GatewayOptions } from '../gateway-options.js';
import type { PublishResult } from '../ingest.js';
import type { Limits } from '../limits/limits.js';
import { RedisEngine } from '../log/redis.js';
import type { Logger } from '../logger.js';
import { defaultProducerOptions } from '../producers/options.js';
import { ProducerRegistry } from '../producers/registry.js';
import { ProducerRouter } from '../producers/router.js';
import { ProducerEndpoint } from '../producers/ws-endpoint.js';
import type { Storage } from './storage.js';

/** The producer side: who is attached and how, the cluster they are shared across, the router. */
export interface Producers {
  registry: ProducerRegistry;
  /** `/v1/producer`. */
  endpoint: ProducerEndpoint;
  /** Producers attached through RabbitMQ, whose commands go out on the command exchange. */
  amqp: AmqpProducerEndpoint | undefined;
  /** With the Redis engine: presence, task ownership and commands across the gateway nodes. */
  cluster: Cluster | undefined;
  /** Takes each checked command to the producer that owns its task, on this node or another. */
  router: ProducerRouter;
}

export interface ProducersDeps {
  storage: Storage;
  /** The in-process ingest path: what producers' events and the router's own events go through. */
  publish: (stream: string, events: AnyEventInput[] | unknown[]) => Promise<PublishResult>;
  /** This node's open connections per transport, for its cluster presence report. */
  connections: () => Record<string, number>;
  limits: Limits;
  logger: Logger;
}

export async function startProducers(options: GatewayOptions, deps: ProducersDeps): Promise<Producers> {
  const { storage, publish, limits, logger } = deps;
  const { engine, snapshots, config, hub, security } = storage;
  // Commands reach producers through the registry: in-process, over /v1/producer, or over AMQP.
  const registry = new ProducerRegistry({
    engine,
    snapshots,
    publish,
    logger,
    options: { ...defaultProducerOptions, ...options.producers },
  });
  const amqp = options.amqp ? new AmqpProducerEndpoint(options.amqp, registry, logger) : undefined;
  // Before the cluster: its first presence report counts this endpoint's producers.
  const endpoint = new ProducerEndpoint({ registry, maxFrameBytes: limits.maxBodyBytes, logger });
  // With several nodes on one Redis, a command may be for a producer connected to another node.
  let cluster: Cluster | undefined;
  if (config.kind === 'redis') {
    try {
      cluster = await Cluster.open({
        url: config.url,
        prefix: engine instanceof RedisEngine ? engine.prefix : (config.prefix ?? 'agentwire:'),
        ...(engine instanceof RedisEngine && { nodeId: engine.nodeId }),
        registry,
        producerOptions: registry.options,
        logger,
        localConnections: () => security.connections.counts(),
        report: () => ({
          connections: deps.connections(),
          subscriptions: hub.subscriptionCount,
          producers: endpoint.connectionCount + (amqp?.connectionCount ?? 0),
          watchers: hub.watcherCounts(),
          users: Object.fromEntries(security.connections.counts()),
          workers: registry.workers(),
        }),
      });
      // Per-user connections and per-producer ingest rate count for the cluster, not this node.
      security.shareLimits(cluster.limits);
    } catch (err) {
      await amqp?.stop();
      await registry.close();
      await engine.close();
      throw err;
    }
  }
  const router = new ProducerRouter({
    registry: cluster?.producers ?? registry,
    engine,
    snapshots,
    publish,
    logger,
  });
  return { registry, endpoint, amqp, cluster, router };
}
