import { AgUiSurface } from '../agui/surface.js';
import type { CommandRouter } from '../commands.js';
import { DEFAULT_SWARM_STREAM } from '../surfaces/swarm-terminal/swarm-dialect.js';
import type { GatewayOptions } from '../gateway-options.js';
import type { Limits } from '../limits/limits.js';
import type { Logger } from '../logger.js';
import { HttpCommands } from '../transports/http-commands.js';
import { PollingTransport } from '../transports/polling.js';
import { SocketIoTransport } from '../surfaces/socketio/socketio.js';
import { DEFAULT_SOCKETIO_PATHS } from '../surfaces/socketio/socketio-paths.js';
import { SseTransport } from '../transports/sse.js';
import { SwarmPolling } from '../surfaces/swarm-terminal/swarm-polling.js';
import { SwarmTerminalTransport } from '../surfaces/swarm-terminal/swarm-websocket.js';
import { WsTransport } from '../transports/ws.js';
import type { Storage } from './storage.js';

/** Every way a watcher connects: the native protocol, per-stream HTTP, AG-UI, Socket.IO, seed 004. */
export interface Transports {
  ws: WsTransport;
  sse: SseTransport;
  polling: PollingTransport;
  httpCommands: HttpCommands;
  agui: AgUiSurface;
  socketio: SocketIoTransport;
  swarm: SwarmTerminalTransport;
  swarmPolling: SwarmPolling;
}

/** `commands`: every watcher's command goes through it, checked, to the producers. */
export function openTransports(
  options: GatewayOptions,
  storage: Storage,
  commands: CommandRouter,
  limits: Limits,
  logger: Logger,
): Transports {
  const { hub, engine, snapshots, security, taskIndex, taskWatches } = storage;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  // With auth, dialect tokens are verified like every other credential; without, as configured.
  const verifyToken = security.enabled ? security.verifyToken : options.verifyDialectToken;
  const swarmOptions = {
    hub,
    engine,
    snapshots,
    limits,
    logger,
    heartbeatMs,
    streamTemplate: options.swarmTerminal?.stream ?? DEFAULT_SWARM_STREAM,
    security,
    taskIndex,
    ...(verifyToken && { verifyToken }),
  };
  return {
    ws: new WsTransport({ hub, commands, limits, heartbeatMs, logger, security, taskWatches }),
    // Per-stream HTTP transports and commands for clients without a WebSocket.
    sse: new SseTransport({ hub, limits, logger, security }),
    polling: new PollingTransport({ hub, limits, logger, security }),
    httpCommands: new HttpCommands({ commands, maxBodyBytes: limits.maxBodyBytes, security }),
    agui: new AgUiSurface({ hub, engine, snapshots, logger, commands, security, limits }),
    // Socket.IO (native and seed dialects) and seed 004's terminal, on the same port (docs/dialects.md).
    socketio: new SocketIoTransport({
      hub,
      snapshots,
      commands,
      limits,
      logger,
      security,
      paths: options.socketio?.paths ?? DEFAULT_SOCKETIO_PATHS,
      ...(options.socketio?.corsOrigin !== undefined && { corsOrigin: options.socketio.corsOrigin }),
      ...(verifyToken && { verifyToken }),
    }),
    swarm: new SwarmTerminalTransport(swarmOptions),
    swarmPolling: new SwarmPolling(swarmOptions),
  };
}

/** Each transport's open connections (pending long-polls count), under its name in `/v1/stats`. */
export function connectionCounts(t: Transports) {
  return {
    connections: t.ws.connectionCount,
    socketioConnections: t.socketio.connectionCount,
    swarmTerminalConnections: t.swarm.connectionCount,
    sseConnections: t.sse.connectionCount,
    aguiConnections: t.agui.connectionCount,
    pendingPolls: t.polling.pendingCount,
  };
}

type ConnectionCounts = ReturnType<typeof connectionCounts>;

/** The same counts as the `transport` label of `agentwire_connections` names them. */
export const METRIC_TRANSPORTS: Partial<Record<keyof ConnectionCounts, string>> = {
  connections: 'websocket',
  socketioConnections: 'socketio',
  swarmTerminalConnections: 'swarm_terminal',
  sseConnections: 'sse',
  pendingPolls: 'long_poll',
};

/** The same counts as a node's cluster presence report names them. */
export const CLUSTER_TRANSPORTS: Partial<Record<keyof ConnectionCounts, string>> = {
  connections: 'websocket',
  socketioConnections: 'socketio',
  swarmTerminalConnections: 'swarmTerminal',
  sseConnections: 'sse',
  pendingPolls: 'polls',
};

/** `counts` under the names `names` gives them; counts it does not name are left out. */
export function renameCounts(
  counts: ConnectionCounts,
  names: Partial<Record<keyof ConnectionCounts, string>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, name] of Object.entries(names)) out[name] = counts[key as keyof ConnectionCounts];
  return out;
}
