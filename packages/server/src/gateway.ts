import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { SYSTEM_STREAM, type AnyEventInput, type ProducerPort, type StatsAnswer } from '@agentwire/protocol';
import { TaskProjects } from './auth/task-projects.js';
import { Security } from './auth/security.js';
import { noProducerRouter, type CommandRouter } from './commands.js';
import { DEFAULT_PORT, type GatewayOptions } from './gateway-options.js';
import { defaultLimits, type Limits } from './limits/limits.js';
import { ConfigError } from './config-error.js';
import { HttpApi } from './http/api.js';
import { EdgeRouter } from './edge/router.js';
import { ProducerChannelEdge } from './edge/producer-channel.js';
import { StaticFiles } from './http/static.js';
import { Hub, defaultHubRecent } from './hub/hub.js';
import { Ingest, type PublishResult } from './ingest.js';
import type { LogEngine } from './log/engine.js';
import { openEngine } from './log/index.js';
import { DeliveryMetrics } from './delivery-metrics.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { MetricsEndpoint } from './metrics/metrics-endpoint.js';
import { DependencyWatch, type DependencyAlert } from './dependency-watch.js';
import { Readiness } from './readiness.js';
import { createLogger, type Logger } from './logger.js';
import { connectInProcess } from './producers/in-process.js';
import { defaultProducerOptions } from './producers/options.js';
import { ProducerRegistry } from './producers/registry.js';
import { ProducerRouter } from './producers/router.js';
import { Cluster } from './cluster/cluster.js';
import { HttpDrain } from './http/drain.js';
import { RedisEngine } from './log/redis.js';
import { ProducerEndpoint } from './producers/ws-endpoint.js';
import { AmqpIngest } from './amqp/consumer.js';
import { AmqpProducerEndpoint } from './amqp/producer-endpoint.js';
import { applyRetention } from './retention.js';
import { SnapshotService } from './snapshots.js';
import { HttpCommands } from './transports/http-commands.js';
import { PollingTransport } from './transports/polling.js';
import { SseTransport } from './transports/sse.js';
import { WsTransport } from './transports/ws.js';
import { SocketIoTransport } from './transports/socketio.js';
import { DEFAULT_SOCKETIO_PATHS } from './transports/socketio-paths.js';
import { SwarmPolling } from './transports/swarm-polling.js';
import { FlaskDashboardStatus } from './transports/flask-dashboard-status.js';
import { SwarmTerminalTransport } from './transports/swarm-terminal.js';
import { DEFAULT_SWARM_STREAM } from './dialects/swarm-terminal.js';
import { AgUiSurface } from './agui/surface.js';
import { ProjectFeed } from './projects/project-feed.js';
import { TaskIndex } from './task-list/task-index.js';
import { TaskWatches } from './task-list/task-watches.js';

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

/** Starts a gateway: log engine, hub, HTTP API and WebSocket transport on one port. */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  const publicUrl = options.publicUrl === undefined ? undefined : parsePublicUrl(options.publicUrl);
  const limits: Limits = { ...defaultLimits, ...options.limits };
  const config = options.engine ?? { kind: 'memory' };
  const engine = await openEngine(config, {
    onConnectionError: (err) => logger.warn({ err: err.message }, 'log storage connection error'),
  });
  const snapshots = new SnapshotService(engine);
  // Before the hub, so a task's project is known by the time its events are fanned out.
  const taskProjects = new TaskProjects(engine, snapshots);
  const security = new Security({
    auth: options.auth,
    allowedOrigins: options.allowedOrigins,
    // Names nobody but the machine's own configuration controls are served without being listed.
    allowedHosts: [
      ...(options.allowedHosts ?? []),
      ...(options.host === undefined ? [] : [options.host]),
      hostname(),
    ],
    ...(publicUrl !== undefined && { publicUrl }),
    limits,
    taskProjects,
    logger,
  });
  const hub = new Hub(
    engine,
    snapshots,
    limits.maxBufferedBytes,
    { ...defaultHubRecent, ...options.recentEvents },
    typeof options.coalesce === 'object' ? options.coalesce : { enabled: options.coalesce !== false },
  );
  if (security.enabled) {
    // Every subscription on every transport and dialect passes this one check (docs/security.md).
    hub.guard = security.guardRead;
    hub.patternFilter = security.filterPattern;
    // A task that moves to another project leaves the subscribers who may not follow it there.
    hub.visibleRun = security.visibleRun;
  }
  // Each task's events also go to its project's stream, before the producer is answered.
  const projectFeed =
    options.projectStreams === false ? undefined : new ProjectFeed(engine, taskProjects, logger);
  const ingest = new Ingest(
    engine,
    limits.maxEventsPerBatch,
    projectFeed && ((s, b) => projectFeed.copy(s, b)),
  );
  // The task list (GET /v1/tasks, watch_tasks), built on first use and then kept current.
  const taskListIntervalMs = options.taskList?.intervalMs ?? 250;
  const taskIndex = new TaskIndex(engine, snapshots, logger, {
    maxTasks: options.taskList?.maxTasks ?? 100_000,
  });
  const taskWatches = new TaskWatches(
    taskIndex,
    { intervalMs: taskListIntervalMs, maxBufferedBytes: limits.maxBufferedBytes },
    logger,
  );
  // After the hub, so its latency samples include the fan-out (the system view charts them).
  const metrics = new DeliveryMetrics(engine, config.kind === 'sqlite' ? config.path : undefined);
  // Its gauges read the transports and producers made below, at scrape time.
  const prometheus = new GatewayMetrics(engine, {
    connections: () => ({
      websocket: ws.connectionCount,
      socketio: socketio.connectionCount,
      swarm_terminal: swarm.connectionCount,
      sse: sse.connectionCount,
      long_poll: polling.pendingCount,
    }),
    subscriptions: () => hub.subscriptionCount,
    streams: () => hub.streamCount,
    deliveredEvents: () => hub.deliveredEvents,
    slowConsumerEvictions: () => hub.slowConsumerEvictions,
    refusals: () => security.refusals.counts,
    producers: () => {
      const s = producers.stats() as { connectedProducers: number; queuedCommands: number };
      return {
        connected: s.connectedProducers,
        queuedCommands: s.queuedCommands,
        workers: producers.workers().length,
      };
    },
    log: () => {
      const bytes = metrics.stats().logBytes;
      return { engine: engine.kind, ...(bytes !== undefined && { bytes }) };
    },
    dependencies: (): Record<string, boolean> => ({
      ...(engine instanceof RedisEngine && { redis: engine.connected }),
      ...(amqp && { rabbitmq: amqp.attached }),
    }),
  });
  const started = Date.now();
  let ready = false;
  let closingSince: number | undefined;
  let publishedEvents = 0;
  // HTTP and AMQP ingest parse each request for this call alone, so the log may own what they pass.
  const publishEvents = async (stream: string, events: readonly unknown[], owned: boolean | string[]) => {
    const result = await ingest.publish(stream, events, owned);
    publishedEvents += result.results.length;
    return result;
  };
  const publishInProcess = prometheus.countIngest('in_process', publishEvents);
  const publishHttp = prometheus.countIngest('http', (stream: string, events: readonly unknown[]) =>
    publishEvents(stream, events, true),
  );
  const publishAmqp = prometheus.countIngest('amqp', (stream: string, events: readonly unknown[]) =>
    publishEvents(stream, events, true),
  );

  const gateway: Gateway = {
    url: '',
    wsUrl: '',
    metricsUrl: undefined,
    port: 0,
    engine,
    hub,
    logger,
    limits,
    commands: noProducerRouter,
    producers: undefined as unknown as ProducerRegistry,
    cluster: undefined,
    connectProducer: (receive, closed) => connectInProcess(producers, logger, receive, closed),
    publish: (stream, events) => publishInProcess(stream, events, false),
    publishEncoded: (stream, events, jsons) => publishInProcess(stream, events, jsons),
    stats: () => ({
      uptimeMs: Date.now() - started,
      engine: engine.kind,
      connections: ws.connectionCount,
      socketioConnections: socketio.connectionCount,
      swarmTerminalConnections: swarm.connectionCount,
      sseConnections: sse.connectionCount,
      aguiConnections: agui.connectionCount,
      pendingPolls: polling.pendingCount,
      subscriptions: hub.subscriptionCount,
      streams: hub.streamCount,
      publishedEvents,
      deliveredEvents: hub.deliveredEvents,
      taskList: { indexed: taskIndex.size, watches: taskWatches.count },
      ...(projectFeed && { projectStreams: projectFeed.stats() }),
      ...producers.stats(),
      ...metrics.stats(),
      watchers: hub.watcherCounts(),
      memory: process.memoryUsage().rss,
      ...(cluster && { cluster: cluster.stats() }),
    }),
    close: async () => {},
  };

  // Every watcher's command, from every transport, is checked here before it is routed.
  const commands: CommandRouter = {
    dispatch: (command, sender) =>
      prometheus.countCommand(command.type, async () => {
        await security.authorizeCommand(command, sender);
        return gateway.commands.dispatch(command, sender);
      }),
  };
  const ws = new WsTransport({
    hub,
    commands,
    limits,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    logger,
    security,
    taskWatches,
  });

  // Per-stream HTTP transports and commands for clients without a WebSocket.
  const sse = new SseTransport({ hub, limits, logger, security });
  const polling = new PollingTransport({ hub, limits, logger, security });
  const httpCommands = new HttpCommands({ commands, maxBodyBytes: limits.maxBodyBytes, security });
  const agui = new AgUiSurface({ hub, engine, snapshots, logger, commands, security, limits });
  // With auth, dialect tokens are verified like every other credential; without, as configured.
  const verifyToken = security.enabled ? security.verifyToken : options.verifyDialectToken;

  // Socket.IO (native and seed dialects) and seed 004's terminal, on the same port (docs/dialects.md).
  const socketio = new SocketIoTransport({
    hub,
    snapshots,
    commands,
    limits,
    logger,
    security,
    paths: options.socketio?.paths ?? DEFAULT_SOCKETIO_PATHS,
    ...(options.socketio?.corsOrigin !== undefined && { corsOrigin: options.socketio.corsOrigin }),
    ...(verifyToken && { verifyToken }),
  });
  const swarmOptions = {
    hub,
    engine,
    snapshots,
    limits,
    logger,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    streamTemplate: options.swarmTerminal?.stream ?? DEFAULT_SWARM_STREAM,
    security,
    taskIndex,
    ...(verifyToken && { verifyToken }),
  };
  const swarm = new SwarmTerminalTransport(swarmOptions);
  const swarmPolling = new SwarmPolling(swarmOptions);

  // Commands reach producers through the registry: in-process, over /v1/producer, or over AMQP.
  const producers = new ProducerRegistry({
    engine,
    snapshots,
    publish: (stream, events) => gateway.publish(stream, events),
    logger,
    options: { ...defaultProducerOptions, ...options.producers },
  });
  // Producers that connect through RabbitMQ: their commands go out on the command exchange.
  const amqpProducers = options.amqp ? new AmqpProducerEndpoint(options.amqp, producers, logger) : undefined;
  // Before the cluster: its first presence report counts this endpoint's producers.
  const producerEndpoint = new ProducerEndpoint({
    registry: producers,
    maxFrameBytes: limits.maxBodyBytes,
    logger,
  });
  // With several nodes on one Redis, a command may be for a producer connected to another node.
  let cluster: Cluster | undefined;
  if (config.kind === 'redis') {
    try {
      cluster = await Cluster.open({
        url: config.url,
        prefix: engine instanceof RedisEngine ? engine.prefix : (config.prefix ?? 'agentwire:'),
        ...(engine instanceof RedisEngine && { nodeId: engine.nodeId }),
        registry: producers,
        producerOptions: producers.options,
        logger,
        localConnections: () => security.connections.counts(),
        report: () => ({
          connections: {
            websocket: ws.connectionCount,
            socketio: socketio.connectionCount,
            swarmTerminal: swarm.connectionCount,
            sse: sse.connectionCount,
            polls: polling.pendingCount,
          },
          subscriptions: hub.subscriptionCount,
          producers: producerEndpoint.connectionCount + (amqpProducers?.connectionCount ?? 0),
          watchers: hub.watcherCounts(),
          users: Object.fromEntries(security.connections.counts()),
          workers: producers.workers(),
        }),
      });
      // Per-user connections and per-producer ingest rate count for the cluster, not this node.
      security.shareLimits(cluster.limits);
    } catch (err) {
      await amqpProducers?.stop();
      await producers.close();
      await engine.close();
      throw err;
    }
  }
  const router = new ProducerRouter({
    registry: cluster?.producers ?? producers,
    engine,
    snapshots,
    publish: (stream, events) => gateway.publish(stream, events),
    logger,
  });
  Object.assign(gateway, { producers, cluster });
  gateway.commands = router;

  // Readiness follows every dependency this node needs (docs/http-api.md#readiness); a dependency
  // that fails is logged with its cause and announced on the system stream where the log allows.
  const readiness = new Readiness();
  readiness.add('gateway', () =>
    ready
      ? { ok: true }
      : closingSince === undefined
        ? { ok: false, cause: 'starting', since: started }
        : { ok: false, cause: 'shutting_down', since: closingSince },
  );
  const alert = (data: DependencyAlert): void => {
    gateway
      .publish(SYSTEM_STREAM, [{ type: 'system:alert', data }])
      .catch((err: unknown) => logger.debug({ err }, 'system alert not stored'));
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

  const ctx = {
    engine,
    publish: publishHttp,
    snapshots,
    limits,
    readiness: () => readiness.report(),
    logger,
    stats: gateway.stats,
    commands,
    security,
    taskIndex,
    taskListIntervalMs,
  };

  const metricsEndpoint = options.metrics === false ? undefined : new MetricsEndpoint(prometheus, security);
  const drain = new HttpDrain();
  // Every request and upgrade is offered to these in order; the first that takes it answers it.
  const edge = new EdgeRouter({
    edges: [
      ws,
      new ProducerChannelEdge(producerEndpoint, security),
      sse,
      polling,
      httpCommands,
      ...(metricsEndpoint ? [metricsEndpoint] : []),
      new FlaskDashboardStatus(socketio, security),
      socketio,
      swarm,
      swarmPolling,
      agui,
      new HttpApi(ctx),
      ...(options.staticDir ? [new StaticFiles(options.staticDir)] : []),
    ],
    security,
    drain,
    logger,
  });
  const { server } = edge;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const listen = { port: options.port ?? DEFAULT_PORT, host: options.host ?? '127.0.0.1' };
    server.listen({ ...listen, backlog: options.backlog ?? 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const displayHost = host === '0.0.0.0' || host === '[::]' ? 'localhost' : host;
  Object.assign(gateway, {
    port: address.port,
    url: `http://${displayHost}:${address.port}`,
    wsUrl: `ws://${displayHost}:${address.port}/v1/ws`,
  });

  if (metricsEndpoint && options.metrics && options.metrics.port !== undefined) {
    const host = options.metrics.host ?? '127.0.0.1';
    const port = await metricsEndpoint.listen(host, options.metrics.port);
    Object.assign(gateway, {
      metricsUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    });
  }

  const retentionPolicy = options.retention ?? {};
  const retentionTimer = setInterval(() => {
    applyRetention(engine, snapshots, retentionPolicy).catch((err: unknown) =>
      logger.error({ err }, 'retention failed'),
    );
  }, options.retentionIntervalMs ?? 60_000);
  retentionTimer.unref();
  // RabbitMQ ingest (docs/scaling.md): publishes through the same ingest as HTTP and in-process.
  const amqp = options.amqp
    ? new AmqpIngest(options.amqp, publishAmqp, logger, limits.maxEventsPerBatch)
    : undefined;
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
  ready = true;

  let closing: Promise<void> | undefined;
  gateway.close = (closeOptions = {}) =>
    (closing ??= (async () => {
      ready = false;
      closingSince = Date.now();
      clearInterval(retentionTimer);
      const { drainDelayMs = 0, graceMs = 10_000 } = closeOptions;
      // Readiness fails first, while everything still works: a load balancer stops routing here.
      if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
      // Then no new connections (clients are refused at once and try another node), and new
      // requests on kept-alive connections get 503 shutting_down.
      const stopped = drain.begin(server);
      // First, so the messages it is storing are acknowledged while the log is still open.
      await amqp?.stop();
      await ws.close(1012, 'shutting_down');
      router.close();
      await producerEndpoint.close();
      await amqpProducers?.stop();
      await producers.close();
      await Promise.all([socketio.close(), swarm.close()]);
      sse.close();
      agui.close();
      polling.close();
      taskWatches.close();
      taskIndex.close();
      // Requests in flight (an ingest batch being committed) finish while the log is open.
      if (!(await drain.settled(graceMs)))
        logger.warn({ requests: drain.requestsInFlight }, 'closing with HTTP requests still in flight');
      metrics.close();
      await metricsEndpoint?.close();
      prometheus.close();
      hub.close();
      taskProjects.close();
      await cluster?.close();
      server.closeAllConnections();
      server.close(); // the HTTP server's own timers; listening stopped above
      await stopped;
      // Flushes: every append issued before is committed (and delivered) before it returns.
      await engine.close();
    })());
  if (amqp) {
    try {
      await amqp.start();
      await amqpProducers?.start();
    } catch (err) {
      await gateway.close();
      throw err;
    }
  }
  return gateway;
}

function parsePublicUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // refused below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new ConfigError(`publicUrl must be an http(s) URL; got ${value.slice(0, 100)}.`);
  return url.origin;
}
