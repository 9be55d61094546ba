import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentwireError } from '@agentwire/protocol';
import { Server as Engine, type Socket as EngineSocket } from 'engine.io';
import { Server as SocketIoServer, type Namespace, type Socket } from 'socket.io';
import type { Security } from '../../auth/security.js';
import type { CommandRouter } from '../../commands.js';
import type { Limits } from '../../limits/limits.js';
import {
  dialectNames,
  isDialectName,
  socketIoDialects,
  FLASK_ROOMS,
  type DialectName,
} from './socketio-dialects.js';
import { errorBody } from '../dialect-helpers.js';
import type { Hub } from '../../hub/hub.js';
import type { Logger } from '../../logger.js';
import type { SnapshotService } from '../../snapshots.js';
import { SocketIoConnection } from './socketio-connection.js';
import { normalizeSocketIoPath, type SocketIoPath } from './socketio-paths.js';
import type { AuthPrincipal } from '../../auth/principal.js';
import type { Session } from '../../auth/session.js';
import { acceptAnyToken, type TokenIdentity, type TokenVerifier } from '../../auth/dialect-token.js';
import type { Edge } from '../../edge/edge.js';

export interface SocketIoTransportOptions {
  hub: Hub;
  snapshots: SnapshotService;
  commands: CommandRouter;
  limits: Limits;
  logger: Logger;
  paths: readonly SocketIoPath[];
  corsOrigin?: string | string[];
  verifyToken?: TokenVerifier;
  security: Security;
}

interface Mount {
  path: string;
  dialect: DialectName;
  engine: Engine;
  io: SocketIoServer;
}

/**
 * Socket.IO on the gateway's HTTP server. Rather than `io.attach(server)` — which wraps every
 * request listener and destroys upgrades it does not own — each path gets an engine.io server that
 * the gateway hands requests to, so `/v1/ws` and seed 004's path stay with their own handlers.
 */
export class SocketIoTransport implements Edge {
  private readonly mounts: Mount[];
  private readonly connections = new Set<SocketIoConnection>();
  /** Engine.io connections that have not authenticated yet, and how each frees its slot. */
  private readonly unauthenticated = new WeakMap<object, () => void>();

  constructor(private readonly options: SocketIoTransportOptions) {
    const seen = new Set<string>();
    const mounts: Mount[] = [];
    for (const entry of options.paths) {
      const path = normalizeSocketIoPath(entry.path);
      if (!isDialectName(entry.dialect))
        throw new Error(`Unknown Socket.IO dialect ${JSON.stringify(entry.dialect)}.`);
      if (seen.has(path)) throw new Error(`Socket.IO path ${path} is configured twice.`);
      seen.add(path);
      mounts.push(this.mount(path, entry.dialect));
    }
    // Longest first, so /a/socket.io wins over a configured /a for /a/socket.io/… requests.
    this.mounts = mounts.sort((a, b) => b.path.length - a.path.length);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get paths(): SocketIoPath[] {
    return this.mounts.map(({ path, dialect }) => ({ path, dialect }));
  }

  /** Takes the request if it is for a Socket.IO path (engine.io's polling transport). */
  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const mount = this.match(url.pathname);
    if (!mount) return false;
    mount.engine.handleRequest(req, res);
    return true;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    const mount = this.match(url.pathname);
    if (!mount) return false;
    mount.engine.handleUpgrade(req, socket, head);
    return true;
  }

  /** Connections and room sizes on the dashboard paths, for seed 003's status route. */
  status(): { status: 'active'; connections: number; rooms: Record<string, number> } {
    const rooms: Record<string, number> = Object.fromEntries(FLASK_ROOMS.map((r) => [r, 0]));
    let connections = 0;
    for (const m of this.mounts) {
      const names = m.dialect === 'flask-dashboard' ? ['/', '/flask-dashboard'] : ['/flask-dashboard'];
      for (const name of names) {
        const nsp = m.io.of(name);
        connections += nsp.sockets.size;
        for (const room of FLASK_ROOMS) {
          rooms[room] = (rooms[room] ?? 0) + (nsp.adapter.rooms.get(room)?.size ?? 0);
        }
      }
    }
    return { status: 'active', connections, rooms };
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.dispose();
    await Promise.all(
      this.mounts.map((m) => new Promise<void>((resolve) => void m.io.close(() => resolve()))),
    );
  }

  private match(pathname: string): Mount | undefined {
    return this.mounts.find((m) => pathname === m.path || pathname.startsWith(`${m.path}/`));
  }

  private mount(path: string, dialectName: DialectName): Mount {
    const { security } = this.options;
    const engine = new Engine({
      cors: { origin: this.options.corsOrigin ?? '*', methods: ['GET', 'POST'] },
      maxHttpBufferSize: this.options.limits.maxFrameBytes,
      transports: ['polling', 'websocket'],
      // With auth on, a connection is nobody's until a namespace handshake authenticates it: it
      // holds one of the unauthenticated slots meanwhile, and none is left past the caps.
      ...(security.enabled && {
        allowRequest: (req: IncomingMessage, fn: (err: string | null, ok: boolean) => void) => {
          const full = security.unauthenticatedFull(req);
          fn(full ? 'Too many connections are waiting to authenticate.' : null, !full);
        },
      }),
    });
    if (security.enabled)
      engine.on('connection', (socket: EngineSocket) => this.holdUntilAuthenticated(socket));
    const io = new SocketIoServer({
      path,
      serveClient: false,
      // A connection that never asks for a namespace is closed when a native one would be.
      ...(security.enabled && { connectTimeout: security.authTimeoutMs }),
    });
    io.bind(engine);
    // The path's dialect on the main namespace, and every dialect on a namespace of its own name,
    // so `io('https://gw/mageagent')` (namespace /mageagent, default path) reaches seed 000's.
    this.serve(io.of('/'), path, dialectName);
    for (const name of dialectNames) this.serve(io.of(`/${name}`), path, name);
    return { path, dialect: dialectName, engine, io };
  }

  /** Counts an engine.io connection as unauthenticated until its first namespace handshake passes. */
  private holdUntilAuthenticated(socket: EngineSocket): void {
    let release: () => void;
    try {
      // Checked at the handshake already; this counts it, and closes one that raced past the check.
      release = this.options.security.holdUnauthenticated(socket.request);
    } catch {
      socket.close();
      return;
    }
    this.unauthenticated.set(socket, release);
    socket.once('close', release);
  }

  private serve(nsp: Namespace, path: string, dialectName: DialectName): void {
    const dialect = socketIoDialects[dialectName];
    nsp.use((socket, next) => {
      this.authenticate(socket, path, dialectName).then(
        async (principal) => {
          // The session holds the user's connection slot and the token's expiry from here on.
          const session = this.options.security.openSession({
            end: (err) => {
              const connection = socket.data.connection as SocketIoConnection | undefined;
              if (connection) connection.end(err);
              else socket.disconnect(true);
            },
          });
          try {
            await session.adopt(principal as AuthPrincipal);
          } catch (err) {
            session.close();
            next(connectError(err));
            return;
          }
          // Gone while its slot was taken: nothing else would give the slot back.
          if (socket.conn.readyState === 'closed') {
            session.close();
            return;
          }
          this.unauthenticated.get(socket.conn)?.();
          socket.conn.once('close', () => session.close());
          socket.data.principal = principal;
          socket.data.session = session;
          next();
        },
        (err: unknown) => next(connectError(err)),
      );
    });
    nsp.on('connection', (socket) => {
      const principal = (socket.data.principal ?? {}) as TokenIdentity;
      const session = socket.data.session as Session;
      const connection = new SocketIoConnection(socket, dialect, this.options, principal, session);
      socket.data.connection = connection;
      this.connections.add(connection);
      socket.once('disconnect', () => this.connections.delete(connection));
      const where = { connection: socket.id, path, namespace: nsp.name, dialect: dialectName };
      this.options.logger.debug(where, 'socket.io connected');
    });
  }

  private async authenticate(socket: Socket, path: string, dialect: DialectName): Promise<TokenIdentity> {
    const { auth, query, headers } = socket.handshake;
    const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
    const fromQuery = this.options.security.queryTokens ? query.token : undefined;
    const candidates = [(auth as Record<string, unknown>).token, fromQuery, bearer];
    const token = candidates.find((t): t is string => typeof t === 'string' && t !== '');
    const verify = this.options.verifyToken ?? acceptAnyToken;
    return verify(token, { transport: 'socketio', dialect, path });
  }
}

/** A refused handshake as Socket.IO reports it: `connect_error` with `err.data = {code, message}`. */
function connectError(err: unknown): Error {
  const e = err instanceof AgentwireError ? err : new AgentwireError('unauthorized');
  return Object.assign(new Error(e.message), { data: errorBody(e) });
}
