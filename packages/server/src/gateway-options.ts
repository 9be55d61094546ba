import type { AmqpIngestOptions } from './amqp/options.js';
import type { TokenVerifier } from './auth/dialect-token.js';
import type { AuthOptions } from './auth/options.js';
import type { CoalesceOptions } from './hub/coalesce.js';
import type { Limits } from './limits/limits.js';
import type { RetentionPolicy } from './log/engine.js';
import type { EngineConfig } from './log/open.js';
import type { Logger } from './logger.js';
import type { ProducerOptions } from './producers/options.js';
import type { SocketIoOptions } from './surfaces/socketio/socketio-paths.js';

/**
 * Everything `createGateway` takes. The options of each part live beside it (auth, AMQP, producers,
 * Socket.IO paths, the log engine); this composes them.
 */
export interface GatewayOptions {
  /** TCP port; 0 picks a free one. Default 7070. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /**
   * Connections the kernel may queue before the gateway accepts them (the listen backlog; the
   * kernel caps it at net.core.somaxconn). Thousands of clients reconnecting at once after a
   * restart overflow a short queue, and each refused SYN costs its client a 1–3 s retransmit.
   * Default 4096.
   */
  backlog?: number;
  /**
   * The newest events of each stream the hub keeps in memory, so resuming subscribers (a
   * reconnect storm after a deploy) are caught up without reading the log. Kept for streams with
   * subscribers and, for `keepUnwatchedMs` after the last one left, for those who come back.
   * Defaults: 1000 per stream, 50,000 in all, 60 s; 0 events turns it off.
   */
  recentEvents?: { perStream?: number; total?: number; keepUnwatchedMs?: number };
  /**
   * Merged token deltas for subscribers that fall behind (docs/limits.md, "Slow subscribers"):
   * on by default; `false` evicts them at `limits.maxBufferedBytes` as before, an object tunes it.
   */
  coalesce?: boolean | Partial<CoalesceOptions>;
  engine?: EngineConfig;
  retention?: RetentionPolicy;
  /** How often retention runs, in ms. Default 60 s. */
  retentionIntervalMs?: number;
  limits?: Partial<Limits>;
  /** Interval of WebSocket heartbeats, in ms. Default 15 s. */
  heartbeatMs?: number;
  /** pino level: fatal, error, warn, info, debug, trace or silent. Default info. */
  logLevel?: string;
  /** A pino logger of your own to write to instead (then `logLevel` is its business). */
  logger?: Logger;
  /** Extra static files served at / (the dashboard), if any. */
  staticDir?: string;
  /** Consume producers' events from RabbitMQ (seed 002's `agent.events` exchange by default). */
  amqp?: AmqpIngestOptions;
  /** Producer channel timing: heartbeats, when a silent producer's tasks become orphaned, command timeouts. */
  producers?: Partial<ProducerOptions>;
  /** Socket.IO paths and the dialect each speaks (docs/dialects.md). Default DEFAULT_SOCKETIO_PATHS. */
  socketio?: SocketIoOptions;
  /**
   * Seed 004's live terminal: the stream a project id maps to. Default `project:{projectId}`, the
   * project's stream (every task of the project); `task:{projectId}` treats a project id as a task id.
   */
  swarmTerminal?: { stream?: string };
  /**
   * Copy each task's events into the stream `project:<projectId>` of its project, so watchers can
   * follow a whole project (docs/protocol.md, "Projects"). Default true; false halves what a task
   * with a project writes, and leaves project streams to what producers publish there themselves.
   */
  projectStreams?: boolean;
  /**
   * The live task list (`GET /v1/tasks`, `watch_tasks`): the least time between two frames of one
   * watch (`intervalMs`, default 250) and the most tasks it holds (`maxTasks`, default 100,000;
   * past it the oldest leave the list).
   */
  taskList?: { intervalMs?: number; maxTasks?: number };
  /**
   * Checks tokens dialect clients present (Socket.IO `auth.token`, `?token=`). Default: accept and
   * record them, until the gateway's auth verifies them.
   */
  verifyDialectToken?: TokenVerifier;
  /**
   * Authentication and authorization for every transport (docs/security.md). Without it the gateway
   * is open: fine in tests and behind your own auth, never on a network. `agentwire serve` sets it
   * unless started with `--insecure`. With it, `verifyDialectToken` is not used.
   */
  auth?: AuthOptions;
  /**
   * Origins (`https://app.example.com`) whose pages may open WebSockets, Socket.IO and CORS
   * requests; `*` allows any. Default: the gateway's own origin and any localhost origin.
   */
  allowedOrigins?: string[];
  /**
   * Prometheus metrics (docs/observability.md). `GET /metrics` on the gateway's port answers an
   * admin credential; `port` also serves them on a port of their own without one, bound to `host`
   * (default 127.0.0.1). `false` turns metrics off.
   */
  metrics?: false | { port?: number; host?: string };
  /**
   * The URL people and clients reach the gateway at (`https://agents.example.com`), when that is
   * not the address it binds: its host is served and its origin is the gateway's own.
   */
  publicUrl?: string;
  /**
   * Host names requests may be addressed to besides IP literals, `localhost` and the bound host
   * (`agents.example.com`, `.example.com` for every subdomain, `*` for any). Any other `Host` is
   * refused with 403: the guard against DNS rebinding (docs/security.md).
   */
  allowedHosts?: string[];
}

export const DEFAULT_PORT = 7070;
