import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentwireError, PRODUCER_PATH, type AnyEventInput, type ProducerPort } from '@agentwire/protocol';
import { noProducerRouter, type CommandRouter } from './commands.js';
import { DEFAULT_PORT, defaultLimits, type GatewayOptions, type Limits } from './config.js';
import { handleApi } from './http/api.js';
import { sendError } from './http/respond.js';
import { serveStatic } from './http/static.js';
import { Hub } from './hub/hub.js';
import { Ingest, type PublishResult } from './ingest.js';
import type { LogEngine } from './log/engine.js';
import { openEngine } from './log/index.js';
import { DeliveryMetrics } from './delivery-metrics.js';
import { createLogger, type Logger } from './logger.js';
import { connectInProcess } from './producers/in-process.js';
import { defaultProducerOptions } from './producers/options.js';
import { ProducerRegistry } from './producers/registry.js';
import { ProducerRouter } from './producers/router.js';
import { ProducerEndpoint } from './producers/ws-endpoint.js';
import { AmqpIngest } from './amqp/consumer.js';
import { applyRetention } from './retention.js';
import { SnapshotService } from './snapshots.js';
import { HttpCommands } from './transports/http-commands.js';
import { PollingTransport } from './transports/polling.js';
import { SseTransport } from './transports/sse.js';
import { WsTransport } from './transports/ws.js';
import { DEFAULT_SOCKETIO_PATHS, SocketIoTransport } from './transports/socketio.js';
import { SwarmPolling } from './transports/swarm-polling.js';
import { SwarmTerminalTransport } from './transports/swarm-terminal.js';
import { DEFAULT_SWARM_STREAM } from './dialects/swarm-terminal.js';

export interface Gateway extends ProducerPort {
  /** `http://host:port` of the running gateway. */
  readonly url: string;
  /** `ws://host:port/v1/ws`, the native WebSocket endpoint. */
  readonly wsUrl: string;
  readonly port: number;
  readonly engine: LogEngine;
  readonly hub: Hub;
  readonly logger: Logger;
  readonly limits: Limits;
  /** In-process publishing: the same validation and durability as HTTP ingest. */
  publish(stream: string, events: AnyEventInput[] | unknown[]): Promise<PublishResult>;
  /** Routes commands from watchers to the producers that own the tasks (replaceable, e.g. in tests). */
  commands: CommandRouter;
  /** The producers attached over `/v1/producer` or in-process, the tasks they own, the workers per kind. */
  readonly producers: ProducerRegistry;
  stats(): Record<string, unknown>;
  close(): Promise<void>;
}

/** Starts a gateway: log engine, hub, HTTP API and WebSocket transport on one port. */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const logger = createLogger(options.logLevel ?? 'info');
  const limits: Limits = { ...defaultLimits, ...options.limits };
  const config = options.engine ?? { kind: 'memory' };
  const engine =
    config.kind === 'custom'
      ? config.engine
      : await openEngine(config, {
          onConnectionError: (err) => logger.warn({ err: err.message }, 'log storage connection error'),
        });
  const snapshots = new SnapshotService(engine);
  const hub = new Hub(engine, snapshots, limits.maxBufferedBytes);
  const ingest = new Ingest(engine, limits.maxEventsPerBatch);
  // After the hub, so its latency samples include the fan-out (the system view charts them).
  const metrics = new DeliveryMetrics(engine, config.kind === 'sqlite' ? config.path : undefined);
  const started = Date.now();
  let ready = false;
  let publishedEvents = 0;

  const gateway: Gateway = {
    url: '',
    wsUrl: '',
    port: 0,
    engine,
    hub,
    logger,
    limits,
    commands: noProducerRouter,
    producers: undefined as unknown as ProducerRegistry,
    connectProducer: (receive, closed) => connectInProcess(producers, logger, receive, closed),
    async publish(stream, events) {
      const result = await ingest.publish(stream, events);
      publishedEvents += result.results.length;
      return result;
    },
    stats: () => ({
      uptimeMs: Date.now() - started,
      engine: engine.kind,
      connections: ws.connectionCount,
      socketioConnections: socketio.connectionCount,
      swarmTerminalConnections: swarm.connectionCount,
      sseConnections: sse.connectionCount,
      pendingPolls: polling.pendingCount,
      subscriptions: hub.subscriptionCount,
      streams: hub.streamCount,
      publishedEvents,
      deliveredEvents: hub.deliveredEvents,
      ...producers.stats(),
      ...metrics.stats(),
      watchers: hub.watcherCounts(),
      memory: process.memoryUsage().rss,
    }),
    close: async () => {},
  };

  const ws = new WsTransport({
    hub,
    commands: { dispatch: (command, sender) => gateway.commands.dispatch(command, sender) },
    limits,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    logger,
  });

  // Per-stream HTTP transports and commands for clients without a WebSocket.
  const sse = new SseTransport({ hub, limits, logger });
  const polling = new PollingTransport({ hub, limits, logger });
  const httpCommands = new HttpCommands({
    commands: { dispatch: (command, sender) => gateway.commands.dispatch(command, sender) },
    maxBodyBytes: limits.maxBodyBytes,
  });

  // Socket.IO (native and seed dialects) and seed 004's terminal, on the same port (docs/dialects.md).
  const socketio = new SocketIoTransport({
    hub,
    snapshots,
    commands: { dispatch: (command, sender) => gateway.commands.dispatch(command, sender) },
    limits,
    logger,
    paths: options.socketio?.paths ?? DEFAULT_SOCKETIO_PATHS,
    ...(options.socketio?.corsOrigin !== undefined && { corsOrigin: options.socketio.corsOrigin }),
    ...(options.verifyDialectToken && { verifyToken: options.verifyDialectToken }),
  });
  const swarmOptions = {
    hub,
    engine,
    snapshots,
    limits,
    logger,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    streamTemplate: options.swarmTerminal?.stream ?? DEFAULT_SWARM_STREAM,
    ...(options.verifyDialectToken && { verifyToken: options.verifyDialectToken }),
  };
  const swarm = new SwarmTerminalTransport(swarmOptions);
  const swarmPolling = new SwarmPolling(swarmOptions);

  // Commands reach producers through the registry: in-process, over /v1/producer, later over AMQP.
  const producers = new ProducerRegistry({
    engine,
    snapshots,
    publish: (stream, events) => gateway.publish(stream, events),
    logger,
    options: { ...defaultProducerOptions, ...options.producers },
  });
  const router = new ProducerRouter({
    registry: producers,
    engine,
    snapshots,
    publish: (stream, events) => gateway.publish(stream, events),
    logger,
  });
  const producerEndpoint = new ProducerEndpoint({ registry: producers, maxFrameBytes: limits.maxBodyBytes, logger });
  Object.assign(gateway, { producers });
  gateway.commands = router;

  const ctx = {
    engine,
    ingest: { publish: gateway.publish } as Ingest,
    snapshots,
    limits,
    isReady: () => ready,
    stats: gateway.stats,
    commands: { dispatch: (command, sender) => gateway.commands.dispatch(command, sender) } satisfies CommandRouter,
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, new AgentwireError('not_found', 'Malformed URL.'));
      return;
    }
    if (sse.handle(req, res, url) || polling.handle(req, res, url) || httpCommands.handle(req, res, url)) return;
    if (socketio.handleRequest(req, res, url) || swarmPolling.handleRequest(req, res, url)) return;
    handleApi(ctx, req, res, url)
      .then((handled) => {
        if (handled) return;
        if (options.staticDir && serveStatic(options.staticDir, url.pathname, req, res)) return;
        sendError(res, new AgentwireError('not_found', `Nothing at ${url.pathname.slice(0, 200)}.`));
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'request failed');
        sendError(res, err);
      });
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path === '/v1/ws') {
      ws.handleUpgrade(req, socket, head);
      return;
    }
    if (path === PRODUCER_PATH) {
      producerEndpoint.handleUpgrade(req, socket, head);
      return;
    }
    if (socketio.handleUpgrade(req, socket, head, path ?? '') || swarm.handleUpgrade(req, socket, head, path ?? '')) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  // Long-lived connections are normal here; only guard against slow header attacks.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, options.host ?? '127.0.0.1', () => {
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

  const retentionPolicy = options.retention ?? {};
  const retentionTimer = setInterval(() => {
    applyRetention(engine, snapshots, retentionPolicy).catch((err: unknown) =>
      logger.error({ err }, 'retention failed'),
    );
  }, options.retentionIntervalMs ?? 60_000);
  retentionTimer.unref();
  // RabbitMQ ingest (docs/scaling.md): publishes through the same ingest as HTTP and in-process.
  const amqp = options.amqp
    ? new AmqpIngest(options.amqp, (stream, events) => gateway.publish(stream, events), logger, limits.maxEventsPerBatch)
    : undefined;
  ready = true;

  let closing: Promise<void> | undefined;
  gateway.close = () =>
    (closing ??= (async () => {
      ready = false;
      clearInterval(retentionTimer);
      // First, so the messages it is storing are acknowledged while the log is still open.
      await amqp?.stop();
      await ws.close(1012, 'shutting_down');
      router.close();
      await producerEndpoint.close();
      await producers.close();
      await Promise.all([socketio.close(), swarm.close()]);
      sse.close();
      polling.close();
      metrics.close();
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await engine.close();
    })());
  if (amqp) {
    try {
      await amqp.start();
    } catch (err) {
      await gateway.close();
      throw err;
    }
  }
  return gateway;
}
