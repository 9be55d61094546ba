import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SYSTEM_STREAM, type AnyEventInput, type ProducerPort, type StatsAnswer } from '@agentwire/protocol';
import { AmqpIngest } from './amqp/consumer.js';
import type { Cluster } from './cluster/cluster.js';
import type { CommandRouter } from './commands.js';
import { DependencyWatch, type DependencyAlert } from './dependency-watch.js';
import { ProducerChannelEdge } from './edge/producer-channel.js';
import { EdgeRouter } from './edge/router.js';
import { DEFAULT_PORT, type GatewayOptions } from './gateway-options.js';
import { startProducers } from './gateway/producers.js';
import { openStorage } from './gateway/storage.js';
import {
  CLUSTER_TRANSPORTS,
  connectionCounts,
  METRIC_TRANSPORTS,
  openTransports,
  renameCounts,
} from './gateway/transports.js';
import { HttpApi } from './http/api.js';
import { HttpDrain } from './http/drain.js';
import { StaticFiles } from './http/static.js';
import type { Hub } from './hub/hub.js';
import type { PublishResult } from './ingest.js';
import { defaultLimits, type Limits } from './limits/limits.js';
import type { LogEngine } from './log/engine.js';
import { RedisEngine } from './log/redis.js';
import { createLogger, type Logger } from './logger.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { MetricsEndpoint } from './metrics/metrics-endpoint.js';
import { connectInProcess } from './producers/in-process.js';
import type { ProducerRegistry } from './producers/registry.js';
import { Readiness } from './readiness.js';
import { applyRetention } from './retention.js';
import { FlaskDashboardStatus } from './surfaces/flask-dashboard/flask-dashboard-status.js';
import { WS_PATH } from './transports/ws.js';

export interface Gateway extends ProducerPort {
  /** `http://host:port` of the running gateway. */
  readonly url: string;
  /** `ws://host:port/v1/ws`, the native WebSocket endpoint. */
  readonly wsUrl: string;
  /** Where Prometheus scrapes without a credential, when `metrics.port` is set. */
  readonly metricsUrl: string | undefined;
  readonly port: number;
  readonly engine: LogEngine;
  readonly hub: Hub;
  readonly logger: Logger;
  readonly limits: Limits;
  /** In-process publishing: the same validation and durability as HTTP ingest. */
  publish(stream: string, events: AnyEventInput[] | unknown[]): Promise<PublishResult>;
  /**
   * `publish` for the agent SDK in-process: `jsons[i]` is the JSON text `events[i].data` was parsed
   * from, and the caller hands that data over (keeps no reference), so the log stores the text
   * and keeps the value instead of encoding and copying it again.
   */
  publishEncoded(
    stream: string,
    events: AnyEventInput[] | unknown[],
    jsons: string[],
  ): Promise<PublishResult>;
  /** Routes commands from watchers to the producers that own the tasks (replaceable, e.g. in tests). */
  commands: CommandRouter;
  /** The producers attached over `/v1/producer` or in-process, the tasks they own, the workers per kind. */
  readonly producers: ProducerRegistry;
  /** With the Redis engine: presence, task ownership and commands across the gateway nodes. */
  readonly cluster: Cluster | undefined;
  stats(): StatsAnswer;
  /**
   * Graceful shutdown: /readyz fails first (for `drainDelayMs`, default 0, while everything else
   * still works, so a load balancer stops sending clients), then new requests get 503
   * `shutting_down`, clients are told to reconnect elsewhere (WebSocket close 1012), requests in
   * flight get up to `graceMs` (default 10 s) to finish, and the log is flushed and closed.
   */
  close(options?: GatewayCloseOptions): Promise<void>;
}

export interface GatewayCloseOptions {
  drainDelayMs?: number;
  graceMs?: number;
}

/**
 * Starts a gateway on one port, in phases: storage and hub; the ingest paths; the transports; the
 * producers and the cluster; readiness; the edge that routes every request and upgrade. `close`
 * takes them down in the order `shutdown` gives.
 */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  const limits: Limits = { ...defaultLimits, ...options.limits };
  const started = Date.now();

  // Storage and hub: the log, what is derived from it, the access rules, the fan-out.
  const storage = await openStorage(options, logger, limits);
  const { engine, snapshots, hub, security, ingest, taskIndex, taskWatches, projectFeed, delivery } = storage;

  // Ingest: one path per way events arrive, each counted under its own label. The gauges read the
  // transports and producers set up below, when Prometheus scrapes.
  const prometheus = new GatewayMetrics(engine, {
    connections: () => renameCounts(connectionCounts(transports), METRIC_TRANSPORTS),
    subscriptions: () => hub.subscriptionCount,
    streams: () => hub.streamCount,
    deliveredEvents: () => hub.deliveredEvents,
    slowConsumerEvictions: () => hub.slowConsumerEvictions,
    coalescedEvents: () => hub.coalescedEvents,
    heldBytes: () => hub.heldBytes,
    refusals: () => security.refusals.counts,
    producers: () => {
      const { connectedProducers, queuedCommands } = producers.registry.stats();
      return { connected: connectedProducers, queuedCommands, workers: producers.registry.workers().length };
    },
    log: () => {
      const bytes = delivery.stats().logBytes;
      return { engine: engine.kind, ...(bytes !== undefined && { bytes }) };
    },
    dependencies: (): Record<string, boolean> => ({
      ...(engine instanceof RedisEngine && { redis: engine.connected }),
      ...(amqp && { rabbitmq: amqp.attached }),
    }),
  });
  let publishedEvents = 0;
  // HTTP and AMQP ingest parse each request for this call alone, so the log may own what they pass.
  const publishEvents = async (stream: string, events: readonly unknown[], owned: boolean | string[]) => {
    const result = await ingest.publish(stream, events, owned);
    publishedEvents += result.results.length;
    return result;
  };
  const publishInProcess = prometheus.countIngest('in_process', publishEvents);
  const publish = (stream: string, events: AnyEventInput[] | unknown[]) =>
    publishInProcess(stream, events, false);
  const publishHttp = prometheus.countIngest('http', (stream: string, events: readonly unknown[]) =>
    publishEvents(stream, events, true),
  );
  const publishAmqp = prometheus.countIngest('amqp', (stream: string, events: readonly unknown[]) =>
    publishEvents(stream, events, true),
  );

  // Transports. Every watcher's command, from every one of them, is checked here and then routed
  // by `gateway.commands` (the producer router, or what a test puts in its place).
  const commands: CommandRouter = {
    dispatch: (command, sender) =>
      prometheus.countCommand(command.type, async () => {
        await security.authorizeCommand(command, sender);
        return gateway.commands.dispatch(command, sender);
      }),
  };
  const transports = openTransports(options, storage, commands, limits, logger);

  // Producers and the cluster.
  const producers = await startProducers(options, {
    storage,
    publish,
    connections: () => renameCounts(connectionCounts(transports), CLUSTER_TRANSPORTS),
    limits,
    logger,
  });
  // RabbitMQ ingest (docs/scaling.md): the same ingest as HTTP and in-process; it starts last.
  const amqp = options.amqp
    ? new AmqpIngest(options.amqp, publishAmqp, logger, limits.maxEventsPerBatch)
    : undefined;

  // Readiness follows every dependency this node needs (docs/http-api.md#readiness).
  const lifecycle: Lifecycle = { ready: false, closingSince: undefined };
  const readiness = watchReadiness(lifecycle, started, engine, amqp, logger, (data) =>
    publish(SYSTEM_STREAM, [{ type: 'system:alert', data }]),
  );

  const stats = (): StatsAnswer => ({
    uptimeMs: Date.now() - started,
    engine: engine.kind,
    ...connectionCounts(transports),
    subscriptions: hub.subscriptionCount,
    streams: hub.streamCount,
    publishedEvents,
    deliveredEvents: hub.deliveredEvents,
    taskList: { indexed: taskIndex.size, watches: taskWatches.count },
    ...(projectFeed && { projectStreams: projectFeed.stats() }),
    ...producers.registry.stats(),
    ...delivery.stats(),
    watchers: hub.watcherCounts(),
    memory: process.memoryUsage().rss,
    ...(producers.cluster && { cluster: producers.cluster.stats() }),
  });

  // The edge: every request and upgrade is offered to these in order; the first that takes it answers.
  const { ws, sse, polling, httpCommands, agui, socketio, swarm, swarmPolling } = transports;
  const metricsEndpoint = options.metrics === false ? undefined : new MetricsEndpoint(prometheus, security);
  const api = new HttpApi({
    engine,
    publish: publishHttp,
    snapshots,
    limits,
    readiness: () => readiness.report(),
    logger,
    stats,
    commands,
    security,
    taskIndex,
    taskListIntervalMs: storage.taskListIntervalMs,
  });
  const drain = new HttpDrain();
  const edge = new EdgeRouter({
    edges: [
      ws,
      new ProducerChannelEdge(producers.endpoint, security),
      sse,
      polling,
      httpCommands,
      ...(metricsEndpoint ? [metricsEndpoint] : []),
      new FlaskDashboardStatus(socketio, security),
      socketio,
      swarm,
      swarmPolling,
      agui,
      api,
      ...(options.staticDir ? [new StaticFiles(options.staticDir)] : []),
    ],
    security,
    drain,
    logger,
  });
  const { server } = edge;
  const address = await listen(server, options);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const displayHost = host === '0.0.0.0' || host === '[::]' ? 'localhost' : host;
  let metricsUrl: string | undefined;
  if (metricsEndpoint && options.metrics && options.metrics.port !== undefined) {
    const metricsHost = options.metrics.host ?? '127.0.0.1';
    const port = await metricsEndpoint.listen(metricsHost, options.metrics.port);
    metricsUrl = `http://${metricsHost.includes(':') ? `[${metricsHost}]` : metricsHost}:${port}/metrics`;
  }

  const retentionPolicy = options.retention ?? {};
  const retentionTimer = setInterval(() => {
    applyRetention(engine, snapshots, retentionPolicy).catch((err: unknown) =>
      logger.error({ err }, 'retention failed'),
    );
  }, options.retentionIntervalMs ?? 60_000);
  retentionTimer.unref();

  // Shutdown order, top to bottom (the comments say why each step is where it is).
  const shutdown = async ({ drainDelayMs = 0, graceMs = 10_000 }: GatewayCloseOptions): Promise<void> => {
    lifecycle.ready = false;
    lifecycle.closingSince = Date.now();
    clearInterval(retentionTimer);
    // Readiness fails first, while everything still works: a load balancer stops routing here.
    if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
    // Then no new connections (clients are refused at once and try another node), and new
    // requests on kept-alive connections get 503 shutting_down.
    const stopped = drain.begin(server);
    // First, so the messages it is storing are acknowledged while the log is still open.
    await amqp?.stop();
    await ws.close(1012, 'shutting_down');
    producers.router.close();
    await producers.endpoint.close();
    await producers.amqp?.stop();
    await producers.registry.close();
    await Promise.all([socketio.close(), swarm.close()]);
    sse.close();
    agui.close();
    polling.close();
    taskWatches.close();
    taskIndex.close();
    // Requests in flight (an ingest batch being committed) finish while the log is open.
    if (!(await drain.settled(graceMs)))
      logger.warn({ requests: drain.requestsInFlight }, 'closing with HTTP requests still in flight');
    delivery.close();
    await metricsEndpoint?.close();
    prometheus.close();
    hub.close();
    storage.taskProjects.close();
    await producers.cluster?.close();
    server.closeAllConnections();
    server.close(); // the HTTP server's own timers; listening stopped above
    await stopped;
    // Flushes: every append issued before is committed (and delivered) before it returns.
    await engine.close();
  };
  let closing: Promise<void> | undefined;

  const gateway: Gateway = {
    url: `http://${displayHost}:${address.port}`,
    wsUrl: `ws://${displayHost}:${address.port}${WS_PATH}`,
    metricsUrl,
    port: address.port,
    engine,
    hub,
    logger,
    limits,
    commands: producers.router,
    producers: producers.registry,
    cluster: producers.cluster,
    connectProducer: (receive, closed) => connectInProcess(producers.registry, logger, receive, closed),
    publish,
    publishEncoded: (stream, events, jsons) => publishInProcess(stream, events, jsons),
    stats,
    close: (closeOptions = {}) => (closing ??= shutdown(closeOptions)),
  };
  lifecycle.ready = true;
  if (amqp) {
    try {
      await amqp.start();
      await producers.amqp?.start();
    } catch (err) {
      await gateway.close();
      throw err;
    }
  }
  return gateway;
}

/** Whether this node takes traffic: starting, ready, or shutting down since when. */
interface Lifecycle {
  ready: boolean;
  closingSince: number | undefined;
}

/**
 * The readiness checks (the gateway's own state, the log storage, the RabbitMQ ingest); a
 * dependency that fails is logged with its cause and announced on the system stream where the
 * log allows.
 */
function watchReadiness(
  lifecycle: Lifecycle,
  started: number,
  engine: LogEngine,
  amqp: AmqpIngest | undefined,
  logger: Logger,
  announce: (data: DependencyAlert) => Promise<unknown>,
): Readiness {
  const readiness = new Readiness();
  readiness.add('gateway', () =>
    lifecycle.ready
      ? { ok: true }
      : lifecycle.closingSince === undefined
        ? { ok: false, cause: 'starting', since: started }
        : { ok: false, cause: 'shutting_down', since: lifecycle.closingSince },
  );
  const alert = (data: DependencyAlert): void => {
    announce(data).catch((err: unknown) => logger.debug({ err }, 'system alert not stored'));
  };
  const health = engine.health;
  if (health) {
    const watch = new DependencyWatch('log', 'the log storage', logger, alert);
    health.onFailure((fault) => watch.failure(fault.cause, fault.message, fault.failures));
    health.onChange((fault) => (fault ? watch.down(fault.cause, fault.since, fault.lasting) : watch.up()));
    readiness.add('log', () => {
      const fault = health.fault;
      if (!fault) return { ok: true };
      return { ok: false, cause: fault.cause, since: fault.since, ...(fault.lasting && { lasting: true }) };
    });
  }
  // Both Redis connections, by name: while one is down this node neither stores nor hears commits.
  if (engine instanceof RedisEngine) readiness.add('redis', () => engine.connectionReport());
  if (amqp) {
    const watch = new DependencyWatch('amqp', 'the RabbitMQ ingest', logger, alert);
    amqp.onAttachment = (attachment, err) => {
      if (attachment.attached) return watch.up();
      watch.failure(attachment.cause, err?.message ?? attachment.cause);
      watch.down(attachment.cause, attachment.since);
    };
    readiness.add('amqp', () => {
      const a = amqp.attachment;
      return a.attached ? { ok: true } : { ok: false, cause: a.cause, since: a.since };
    });
  }
  return readiness;
}

function listen(server: Server, options: GatewayOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const address = { port: options.port ?? DEFAULT_PORT, host: options.host ?? '127.0.0.1' };
    server.listen({ ...address, backlog: options.backlog ?? 4096 }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
