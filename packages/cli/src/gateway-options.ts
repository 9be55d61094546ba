import { resolve, join } from 'node:path';
import { ConfigError, parseRedisUrl, parseSocketIoPath, type GatewayOptions } from '@agentwire/server';
import { installedDashboardDir } from './dashboard-dir.js';
import { prepareDataDir } from './data-dir.js';
import { parseDuration, parseInteger, UsageError, type OptionSpecs } from './options.js';
import { securityOptions, securitySpecs, type SecuritySetup } from './security-options.js';

export const gatewaySpecs: OptionSpecs = {
  port: {
    type: 'string',
    short: 'p',
    env: 'AGENTWIRE_PORT',
    default: '7070',
    description: 'TCP port (0 picks a free one)',
  },
  host: {
    type: 'string',
    env: 'AGENTWIRE_HOST',
    default: '127.0.0.1',
    description: 'Interface to bind (0.0.0.0 for all)',
  },
  data: {
    type: 'string',
    short: 'd',
    env: 'AGENTWIRE_DATA',
    default: './agentwire-data',
    description: 'Data folder for the SQLite log',
  },
  engine: {
    type: 'string',
    env: 'AGENTWIRE_ENGINE',
    default: 'sqlite',
    description: 'Log engine: sqlite, memory or redis (a cluster of gateways)',
  },
  'redis-url': {
    type: 'string',
    env: 'AGENTWIRE_REDIS_URL',
    default: 'redis://127.0.0.1:6379',
    description:
      'Redis for --engine redis: redis://, rediss:// (TLS), or redis+sentinel://host1:26379,host2:26379/<masterName> to follow the primary Sentinel names (docs/scaling.md)',
  },
  'redis-wait-replicas': {
    type: 'string',
    env: 'AGENTWIRE_REDIS_WAIT_REPLICAS',
    default: '0',
    description:
      'Replicas that must confirm each commit (Redis WAIT) before events are acknowledged, so a failover loses none; fewer refuse with storage_unavailable (0 = acknowledge on the primary alone)',
  },
  'redis-wait-timeout': {
    type: 'string',
    env: 'AGENTWIRE_REDIS_WAIT_TIMEOUT',
    default: '1s',
    description: 'How long a commit waits for --redis-wait-replicas confirmations (e.g. 500ms, 2s)',
  },
  'redis-prefix': {
    type: 'string',
    env: 'AGENTWIRE_REDIS_PREFIX',
    default: 'agentwire:',
    description: 'Key prefix; gateways sharing it form one cluster',
  },
  'redis-announce-max-bytes': {
    type: 'string',
    env: 'AGENTWIRE_REDIS_ANNOUNCE_MAX_BYTES',
    default: '65536',
    description: "Most bytes of a commit's events its announcement carries to the other nodes (0: none)",
  },
  'amqp-url': {
    type: 'string',
    env: 'AGENTWIRE_AMQP_URL',
    description: 'Consume producer events from RabbitMQ (amqp://user:pass@host:5672)',
  },
  'amqp-exchange': {
    type: 'string',
    env: 'AGENTWIRE_AMQP_EXCHANGE',
    default: 'agent.events',
    description: 'Topic exchange producers publish to',
  },
  'amqp-queue': {
    type: 'string',
    env: 'AGENTWIRE_AMQP_QUEUE',
    default: 'agentwire.ingest',
    description: 'Durable queue the gateways consume (dead letters: <queue>.dead)',
  },
  'amqp-command-exchange': {
    type: 'string',
    env: 'AGENTWIRE_AMQP_COMMAND_EXCHANGE',
    default: 'agent.commands',
    description: 'Topic exchange commands go out on to producers connected through RabbitMQ',
  },
  'amqp-producer-queue': {
    type: 'string',
    env: 'AGENTWIRE_AMQP_PRODUCER_QUEUE',
    default: 'agentwire.producers',
    description: 'Durable queue producers connected through RabbitMQ send their channel ops to',
  },
  durability: {
    type: 'string',
    env: 'AGENTWIRE_DURABILITY',
    default: 'normal',
    description: 'SQLite sync: normal (survives crashes) or full (survives power loss)',
  },
  'retention-events': {
    type: 'string',
    env: 'AGENTWIRE_RETENTION_EVENTS',
    default: '100000',
    description: 'Events kept per stream (0 = all)',
  },
  'retention-age': {
    type: 'string',
    env: 'AGENTWIRE_RETENTION_AGE',
    default: '7d',
    description: 'Age after which events are dropped (0 = never)',
  },
  'log-level': {
    type: 'string',
    env: 'AGENTWIRE_LOG_LEVEL',
    default: 'info',
    description: 'fatal, error, warn, info, debug, trace or silent',
  },
  'drain-delay': {
    type: 'string',
    env: 'AGENTWIRE_DRAIN_DELAY',
    default: '0',
    description:
      'On SIGTERM, how long /readyz fails before clients are sent away (e.g. 5s), so a load balancer stops routing here first',
  },
  'shutdown-grace': {
    type: 'string',
    env: 'AGENTWIRE_SHUTDOWN_GRACE',
    default: '10s',
    description: 'On SIGTERM, how long requests in flight (ingest batches) get to finish',
  },
  'socketio-path': {
    type: 'string',
    multiple: true,
    env: 'AGENTWIRE_SOCKETIO_PATHS',
    description:
      'Socket.IO path=dialect, repeatable (env: comma-separated); dialects native, mageagent, progress, flask-dashboard; replaces the defaults (docs/dialects.md)',
  },
  'swarm-stream': {
    type: 'string',
    env: 'AGENTWIRE_SWARM_STREAM',
    default: 'project:{projectId}',
    description:
      "Stream seed 004's terminal watches for a project: its project stream (every task of the project), or task:{projectId} to treat a project id as one task's id",
  },
  'metrics-port': {
    type: 'string',
    env: 'AGENTWIRE_METRICS_PORT',
    description:
      'Also serve Prometheus metrics at /metrics on this port, without a credential (on the main port they need an admin one); off turns metrics off',
  },
  'metrics-host': {
    type: 'string',
    env: 'AGENTWIRE_METRICS_HOST',
    default: '127.0.0.1',
    description: 'Interface the metrics port binds',
  },
  otel: {
    type: 'boolean',
    env: 'AGENTWIRE_OTEL',
    description:
      'Export OpenTelemetry traces as the standard OTEL_* variables say (needs @opentelemetry/sdk-node); on by itself when OTEL_TRACES_EXPORTER or an OTLP endpoint is set',
  },
  dashboard: {
    type: 'string',
    env: 'AGENTWIRE_DASHBOARD',
    description:
      'Folder of the web dashboard served at /, or off (default: the installed @agentwire/dashboard)',
  },
  ...securitySpecs,
};

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function gatewayOptions(
  values: Record<string, string | boolean | undefined>,
  argv: readonly string[] = [],
): GatewayOptions & { dataDir?: string; security?: SecuritySetup; warnings: string[] } {
  const str = (name: string) => String(values[name]);
  const port = parseInteger(str('port'), 'port');
  if (port > 65535) throw new UsageError('--port must be at most 65535.');
  const logLevel = str('log-level');
  if (!levels.includes(logLevel)) throw new UsageError(`--log-level must be one of ${levels.join(', ')}.`);
  const engineKind = str('engine');
  const durability = str('durability');
  if (durability !== 'normal' && durability !== 'full')
    throw new UsageError('--durability must be normal or full.');
  const retentionEvents = parseInteger(str('retention-events'), 'retention-events');
  const retentionAge = str('retention-age') === '0' ? 0 : parseDuration(str('retention-age'));
  const options: GatewayOptions & { dataDir?: string; security?: SecuritySetup; warnings: string[] } = {
    warnings: [],
    port,
    host: str('host'),
    logLevel,
    retention: { maxEvents: retentionEvents, maxAgeMs: retentionAge },
  };
  const socketioPaths = values['socketio-path'];
  if (typeof socketioPaths === 'string' && socketioPaths.trim() !== '') {
    try {
      options.socketio = {
        paths: socketioPaths
          .split(',')
          .filter((s) => s.trim() !== '')
          .map(parseSocketIoPath),
      };
    } catch (err) {
      throw new UsageError(`--socketio-path: ${(err as Error).message}`);
    }
  }
  const swarmStream = str('swarm-stream');
  if (!swarmStream.includes('{projectId}'))
    throw new UsageError(
      '--swarm-stream must contain {projectId}, e.g. project:{projectId} or task:{projectId}.',
    );
  options.swarmTerminal = { stream: swarmStream };
  const metricsPort = values['metrics-port'];
  if (metricsPort === 'off') options.metrics = false;
  else if (typeof metricsPort === 'string' && metricsPort !== '') {
    const port = parseInteger(metricsPort, 'metrics-port');
    if (port > 65535) throw new UsageError('--metrics-port must be at most 65535.');
    options.metrics = { port, host: str('metrics-host') };
  }
  const dashboard = values.dashboard;
  if (typeof dashboard === 'string' && dashboard !== '') {
    if (dashboard !== 'off') options.staticDir = resolve(dashboard);
  } else {
    const dir = installedDashboardDir();
    if (dir) options.staticDir = dir;
  }
  if (engineKind === 'sqlite') {
    const dataDir = resolve(str('data'));
    options.warnings.push(...prepareDataDir(dataDir));
    options.dataDir = dataDir;
    options.engine = { kind: 'sqlite', path: join(dataDir, 'log.db'), synchronous: durability };
  } else if (engineKind === 'memory') {
    options.engine = { kind: 'memory' };
  } else if (engineKind === 'redis') {
    const url = str('redis-url');
    try {
      parseRedisUrl(url);
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(`--redis-url: ${err.message}`);
      throw err;
    }
    const waitReplicas = parseInteger(str('redis-wait-replicas'), 'redis-wait-replicas');
    const waitTimeout = parseDuration(str('redis-wait-timeout'));
    if (waitTimeout < 1) throw new UsageError('--redis-wait-timeout must be at least 1ms.');
    options.engine = {
      kind: 'redis',
      url,
      prefix: str('redis-prefix'),
      ...(waitReplicas > 0 && { waitReplicas, waitTimeoutMs: waitTimeout }),
      announceMaxBytes: parseInteger(str('redis-announce-max-bytes'), 'redis-announce-max-bytes'),
    };
  } else {
    throw new UsageError('--engine must be sqlite, memory or redis.');
  }
  const amqpUrl = values['amqp-url'];
  if (typeof amqpUrl === 'string' && amqpUrl !== '') {
    if (!/^amqps?:\/\//.test(amqpUrl))
      throw new UsageError('--amqp-url must start with amqp:// or amqps://.');
    options.amqp = {
      url: amqpUrl,
      exchange: str('amqp-exchange'),
      queue: str('amqp-queue'),
      commandExchange: str('amqp-command-exchange'),
      producerQueue: str('amqp-producer-queue'),
    };
  }
  // Secure by default (docs/security.md): auth unless --insecure, its secret in the data folder.
  const security = securityOptions(values, resolve(str('data')), argv);
  Object.assign(options, security.options, {
    limits: { ...options.limits, ...security.options.limits },
    security,
  });
  for (const w of security.warnings) if (!options.warnings.includes(w)) options.warnings.push(w);
  return options;
}
