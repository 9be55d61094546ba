import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentwireError, projectIdOf, type AnyEnvelope, type TaskState } from '@agentwire/protocol';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AuthPrincipal } from '../../auth/principal.js';
import type { Security } from '../../auth/security.js';
import type { Session } from '../../auth/session.js';
import type { Limits } from '../../limits/limits.js';
import { errorBody, isoTime } from '../dialect-helpers.js';
import {
  connectionEstablished,
  swarmFrame,
  swarmProjectSnapshot,
  swarmSnapshot,
  swarmStreamFor,
  swarmStreamMessages,
  taskStreamsOf,
} from './swarm-dialect.js';
import type { Hub } from '../../hub/hub.js';
import type { Logger } from '../../logger.js';
import type { SnapshotService } from '../../snapshots.js';
import type { TaskIndex } from '../../task-list/task-index.js';
import { DialectSink } from '../dialect-sink.js';
import { liveProjectStates, statesOf } from './swarm-states.js';
import { acceptAnyToken, type TokenVerifier } from '../../auth/dialect-token.js';
import type { Edge } from '../../edge/edge.js';

export interface SwarmTerminalOptions {
  hub: Hub;
  snapshots: SnapshotService;
  limits: Limits;
  logger: Logger;
  heartbeatMs: number;
  /** Stream template for a project, e.g. `project:{projectId}` or `task:{projectId}`. */
  streamTemplate: string;
  verifyToken?: TokenVerifier;
  security: Security;
  /** For a project stream, the project's live tasks a connecting terminal draws. */
  taskIndex: TaskIndex;
}

/** `/ws/admin/agent-swarm/{projectId}`, the URL seed 004's AgentSwarmService builds. */
export const SWARM_WS_PATH = /^\/ws\/admin\/agent-swarm\/([^/]+)\/?$/;

/**
 * Seed 004's live terminal over a plain WebSocket. A connection gets `connection_established`, then
 * the project's snapshot as one batch (or, with `?after=<seq>&epoch=…`, exactly the messages after
 * that seq), then live messages. The terminal sends nothing; `{"type":"ping"}` is answered with
 * `{"type":"pong"}` for clients that keep their own heartbeat.
 */
export class SwarmTerminalTransport implements Edge {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<SwarmConnection>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: SwarmTerminalOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.limits.maxFrameBytes,
      perMessageDeflate: false,
    });
    this.heartbeat = setInterval(() => {
      for (const c of this.connections) c.beat();
    }, options.heartbeatMs);
    this.heartbeat.unref();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    const { pathname } = url;
    const match = SWARM_WS_PATH.exec(pathname);
    if (!match) return false;
    let projectId: string;
    let stream: string;
    try {
      projectId = decodeURIComponent(match[1]!);
      stream = swarmStreamFor(this.options.streamTemplate, projectId);
    } catch {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new SwarmConnection(ws, projectId, stream, this.options);
      this.connections.add(connection);
      ws.once('close', () => {
        this.connections.delete(connection);
        connection.dispose();
      });
      void connection.start(this.options.security.credentialOf(req, url), url.searchParams, pathname);
    });
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const c of this.connections) c.ws.close(1012, 'shutting_down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const c of this.connections) c.ws.terminate();
  }
}

class SwarmConnection {
  readonly id = randomUUID();
  private readonly sink: DialectSink;
  private alive = true;
  private closed = false;
  private unsubscribe: (() => void) | undefined;
  private readonly session: Session;

  constructor(
    readonly ws: WebSocket,
    private readonly projectId: string,
    private readonly stream: string,
    private readonly options: SwarmTerminalOptions,
  ) {
    this.sink = new DialectSink({
      deliver: (events) => this.deliver(events),
      transportBytes: () => ws.bufferedAmount,
      overflow: () => this.close(new AgentwireError('slow_consumer')),
      // The terminal follows one project's stream: without it there is nothing left to show.
      revoke: (_stream, err) => this.close(err),
      onError: (err) => options.logger.error({ err, connection: this.id }, 'swarm terminal delivery failed'),
    });
    // The user's connection slot, the token's expiry and the inbound rate; the hub checks the
    // project's stream against this session's principal (docs/security.md).
    this.session = options.security.openSession({ end: (err) => this.close(err) });
    options.security.bind(this.sink, this.session);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', (err) =>
      options.logger.debug({ err, connection: this.id }, 'swarm terminal socket error'),
    );
  }

  async start(token: string | undefined, query: URLSearchParams, path: string): Promise<void> {
    const { hub, verifyToken = acceptAnyToken } = this.options;
    try {
      const principal = await verifyToken(token, { transport: 'websocket', dialect: 'swarm-terminal', path });
      await this.session.adopt(principal as AuthPrincipal);
    } catch (err) {
      this.close(err instanceof AgentwireError ? err : new AgentwireError('unauthorized'));
      return;
    }
    if (this.closed) return;
    // Our extension: `?after=<seq>` (and `&epoch=`) resumes exactly, as the polling fallback does.
    const after = query.get('after');
    const epoch = query.get('epoch');
    const since =
      after !== null && /^\d{1,15}$/.test(after)
        ? { seq: Number(after), ...(epoch ? { epoch } : {}) }
        : undefined;
    // A project's terminal draws its live tasks first (read before the subscription is positioned,
    // so whatever they did since arrives live). Sent only once the hub's access check has passed.
    const project = projectIdOf(this.stream);
    let live: TaskState[] = [];
    if (project !== undefined) {
      try {
        live = await liveProjectStates(this.options.taskIndex, this.options.snapshots, project);
      } catch (err) {
        this.close(err instanceof AgentwireError ? err : new AgentwireError('internal'));
        return;
      }
      if (this.closed) return;
    }
    const sub = hub.open(this.stream, this.sink);
    this.unsubscribe = () => hub.unsubscribe(sub);
    try {
      await hub.start(sub, { snapshot: true, ...(since && { since }) }, (result) => {
        this.sink.control(() => {
          const status =
            project !== undefined
              ? live.length > 0
                ? 'running'
                : 'idle'
              : (result.snapshot?.state?.status ?? (result.seq === 0 ? 'pending' : 'running'));
          const info = {
            stream: this.stream,
            epoch: result.epoch,
            seq: result.seq,
            recovered: result.recovered,
            status,
          };
          this.sendJson(connectionEstablished(this.projectId, info, Date.now()));
          if (result.snapshot) {
            const replay =
              project !== undefined
                ? swarmProjectSnapshot(live, this.projectId, result.snapshot.seq)
                : swarmSnapshot(result.snapshot.state, this.projectId);
            this.sendJson(swarmFrame(replay));
          }
        });
      });
    } catch (err) {
      this.close(err instanceof AgentwireError ? err : new AgentwireError('internal'));
    }
  }

  beat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  dispose(): void {
    this.closed = true;
    this.session.close();
    this.unsubscribe?.();
    this.sink.close();
  }

  private async deliver(events: AnyEnvelope[]): Promise<void> {
    const states = await statesOf(this.options.snapshots, taskStreamsOf(events));
    this.sendJson(swarmFrame(swarmStreamMessages(events, states, this.projectId)));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const admission = this.session.admit();
    if (admission === 'close')
      this.close(new AgentwireError('rate_limited', 'Too many messages for too long.'));
    if (admission !== 'ok') return;
    let type: unknown;
    try {
      if (isBinary)
        throw new AgentwireError('invalid_message', 'Binary frames are not part of the protocol.');
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
      const value = JSON.parse(text) as unknown;
      type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
      if (type !== 'ping')
        throw new AgentwireError('unknown_op', 'The terminal accepts only {"type":"ping"}.');
    } catch (err) {
      const e = err instanceof AgentwireError ? err : new AgentwireError('bad_json');
      this.sendJson({ type: 'error', ...errorBody(e), timestamp: isoTime(Date.now()) });
      return;
    }
    this.sink.control(() => this.sendJson({ type: 'pong', timestamp: isoTime(Date.now()) }));
  }

  private sendJson(message: unknown): void {
    if (message === undefined || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify(message));
  }

  private close(err: AgentwireError): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(err.closeCode, err.code);
  }
}
