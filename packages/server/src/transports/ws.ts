import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  AgentwireError,
  parseClientOp,
  PROTOCOL_VERSION,
  SUBPROTOCOL,
  type ClientOp,
  type ErrorOp,
  type ServerOp,
  type TaskSummary,
} from '@agentwire/protocol';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Security } from '../auth/security.js';
import type { Session } from '../auth/session.js';
import type { CommandRouter } from '../commands.js';
import type { Limits } from '../limits/limits.js';
import type { AuthPrincipal } from '../auth/principal.js';
import type { Hub, Subscription } from '../hub/hub.js';
import type { Sink } from '../hub/sink.js';
import type { Logger } from '../logger.js';
import { refuseUpgrade } from '../http/refuse-upgrade.js';
import type { TaskWatch, TaskWatches, TaskWatchTarget } from '../task-list/task-watches.js';
import { cachedTextFrame, rawSocket, writeCorked } from './ws-frame.js';
import type { Edge } from '../edge/edge.js';

export interface WsTransportOptions {
  hub: Hub;
  commands: CommandRouter;
  limits: Limits;
  heartbeatMs: number;
  logger: Logger;
  security: Security;
  /** Live windows on the task list (`watch_tasks`). */
  taskWatches: TaskWatches;
}

/** The native WebSocket endpoint. */
export const WS_PATH = '/v1/ws';

/** Rows of a task-list window when `watch_tasks` names no `limit`. */
const DEFAULT_TASK_WINDOW = 100;

/**
 * Frames a connection without a credential may send before its `auth` op; more are refused. Once
 * a credential is being checked (a URL token, a header, the `auth` op) nothing is refused: the
 * backlog holds a burst's worth (`messageBurst`, at least this many), then the socket is not read
 * until the check ends, so the client is slowed by TCP rather than told to authenticate again.
 */
const MAX_BACKLOG = 64;

/** The native WebSocket protocol (docs/protocol.md) on top of `ws`. */
export class WsTransport implements Edge {
  readonly wss: WebSocketServer;
  private readonly connections = new Set<WsConnection>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: WsTransportOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.limits.maxFrameBytes,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
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
    if (url.pathname !== WS_PATH) return false;
    const { security } = this.options;
    // A credential in the upgrade (header, or ?token=); without one the client sends {op:"auth"}.
    const credential = security.credentialOf(req, url);
    // Until that `auth`, the connection is nobody's: it holds one of the unauthenticated slots.
    let release: (() => void) | undefined;
    if (credential === undefined) {
      try {
        release = security.holdUnauthenticated(req);
      } catch (err) {
        refuseUpgrade(socket, err);
        return true;
      }
      // Also when the handshake itself fails and no connection is made.
      socket.once('close', release);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new WsConnection(ws, this.options, credential, release);
      this.connections.add(connection);
      ws.once('close', () => {
        this.connections.delete(connection);
        connection.dispose();
      });
    });
    return true;
  }

  /** Closes every connection with `code` (1012 on shutdown tells clients to reconnect elsewhere). */
  async close(code = 1001, reason = 'going away'): Promise<void> {
    clearInterval(this.heartbeat);
    for (const c of this.connections) c.ws.close(code, reason);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const c of this.connections) c.ws.terminate();
  }
}

class WsConnection implements Sink {
  readonly id = randomUUID();
  private readonly subs = new Map<string, Subscription>();
  private alive = true;
  private readonly session: Session;
  /** Frames received before the connection is authenticated, handled in order once it is. */
  private backlog: { data: RawData; isBinary: boolean }[] | undefined = [];
  private authenticating = false;
  private taskWatch: TaskWatch | undefined;
  private readonly watchTarget: TaskWatchTarget;
  /** Reading stopped while a credential is checked, the backlog being full. */
  private paused = false;

  constructor(
    readonly ws: WebSocket,
    private readonly options: WsTransportOptions,
    credential: string | undefined,
    /** Frees the unauthenticated slot this connection holds until it authenticates. */
    private readonly authenticated: () => void = () => {},
  ) {
    const { security } = options;
    this.session = security.openSession({ end: (err) => this.end(err) });
    security.bind(this, this.session);
    this.watchTarget = {
      send: (op) => this.sendOp(op),
      get bufferedBytes() {
        return ws.bufferedAmount;
      },
      failed: (err, ref) => this.sendError(err, ref),
      // Asked on every refresh, so a task that moves to another project leaves the window then.
      ...(security.enabled && {
        visible: (row: TaskSummary) => {
          const p = this.session.principal;
          return p !== undefined && security.access.mayReadTask(p, row.stream, row.projectId);
        },
      }),
    };
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', (err) => options.logger.debug({ err, connection: this.id }, 'websocket error'));
    this.sendOp({
      op: 'hello',
      version: PROTOCOL_VERSION,
      connection: this.id,
      heartbeatMs: options.heartbeatMs,
    });
    if (credential !== undefined || !security.enabled) this.authenticate(credential);
    else this.session.expectCredential();
  }

  /** Checks the credential, then handles what arrived meanwhile; a refusal closes with its code. */
  private authenticate(credential: string | undefined, ref?: string): void {
    this.authenticating = true;
    this.session.start(credential).then(
      (principal) => {
        this.authenticating = false;
        this.authenticated();
        // Told when asked (`auth`) or when it matters (an expiry to refresh before); old clients on open gateways are not sent an op they do not know.
        if (ref !== undefined || (credential !== undefined && this.options.security.enabled))
          this.sendAuthenticated(principal, ref);
        const backlog = this.backlog ?? [];
        this.backlog = undefined;
        for (const m of backlog) this.handle(m.data, m.isBinary);
        if (this.paused) {
          this.paused = false;
          this.ws.resume();
        }
      },
      (err: unknown) => {
        // Read again, so the closing handshake can complete.
        if (this.paused) {
          this.paused = false;
          this.ws.resume();
        }
        this.end(err, ref);
      },
    );
  }

  private sendAuthenticated(principal: AuthPrincipal, ref?: string): void {
    this.sendOp({
      op: 'authenticated',
      subject: principal.subject ?? 'anonymous',
      role: principal.role ?? 'none',
      ...(principal.expiresAt !== undefined && { expiresAt: principal.expiresAt }),
      ...(ref !== undefined && { ref }),
    });
  }

  /** Ends the connection with a typed error frame and the registry's close code. */
  private end(err: unknown, ref?: string): void {
    const e = err instanceof AgentwireError ? err : new AgentwireError('unauthorized');
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.sendError(e, ref);
    this.ws.close(e.closeCode, e.code);
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Writes the frame's bytes straight to the socket: built once per fan-out and shared by every
   * subscriber (ws would encode and frame the string again for each), corked so a subscriber's
   * frames of one turn leave in one syscall. Safe beside ws's own writes because
   * permessage-deflate is off, so ws never holds frames back in a queue of its own.
   */
  send(frame: string): void {
    if (this.ws.readyState === this.ws.OPEN) writeCorked(rawSocket(this.ws), cachedTextFrame(frame));
  }

  overflow(): void {
    const err = new AgentwireError('slow_consumer');
    this.ws.close(err.closeCode, err.code);
  }

  /** A subscription the hub ended (access withdrawn): reported like a refused one; the socket stays. */
  revoke(stream: string, err: AgentwireError): void {
    if (this.subs.get(stream)?.closed) this.subs.delete(stream);
    this.sendError(err, undefined, stream);
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
    this.authenticated();
    for (const sub of this.subs.values()) this.options.hub.unsubscribe(sub);
    this.subs.clear();
    if (this.taskWatch) this.options.taskWatches.unwatch(this.taskWatch);
    this.taskWatch = undefined;
    this.session.close();
    this.backlog = undefined;
  }

  private sendOp(op: ServerOp): void {
    this.send(JSON.stringify(op));
  }

  private sendError(err: unknown, ref?: string, stream?: string): void {
    const e = err instanceof AgentwireError ? err : new AgentwireError('internal');
    if (!(err instanceof AgentwireError)) this.options.logger.error({ err }, 'unexpected error on websocket');
    const op: ErrorOp = { op: 'error', code: e.code, message: e.message };
    if (ref !== undefined) op.ref = ref;
    if (stream !== undefined) op.stream = stream;
    if (e.details !== undefined) op.details = e.details;
    this.sendOp(op);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const admission = this.session.admit();
    if (admission !== 'ok') {
      if (admission === 'close')
        this.end(new AgentwireError('rate_limited', 'Too many messages for too long.'));
      else if (admission === 'drop-and-tell') {
        const limit = this.options.limits.maxMessagesPerSecond;
        this.sendError(
          new AgentwireError(
            'rate_limited',
            `At most ${limit} messages per second; messages are being dropped.`,
          ),
        );
      }
      return;
    }
    if (this.backlog) {
      this.waitForAuth(data, isBinary);
      return;
    }
    this.handle(data, isBinary);
  }

  /** Before authentication only `auth` is acted on; other frames wait for it (a bounded number). */
  private waitForAuth(data: RawData, isBinary: boolean): void {
    const backlog = this.backlog!;
    if (!this.authenticating && !isBinary) {
      const text = frameText(data);
      let op: ClientOp | undefined;
      try {
        op = parseClientOp(text);
      } catch {
        // Not an auth op: it waits, and is refused properly once the connection is authenticated.
      }
      if (op?.op === 'auth') {
        this.authenticate(op.token, op.ref);
        return;
      }
    }
    if (this.authenticating) {
      backlog.push({ data, isBinary });
      // Frames ws has already read still arrive after pause(); they join the backlog too.
      if (!this.paused && backlog.length >= Math.max(MAX_BACKLOG, this.options.limits.messageBurst)) {
        this.paused = true;
        this.ws.pause();
      }
      return;
    }
    if (backlog.length >= MAX_BACKLOG) {
      this.sendError(
        new AgentwireError('unauthorized', 'Authenticate first: send {"op":"auth","token":…}.'),
        refOf(frameText(data)),
      );
      return;
    }
    backlog.push({ data, isBinary });
  }

  private handle(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.sendError(new AgentwireError('invalid_message', 'Binary frames are not part of the protocol.'));
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    let op: ClientOp;
    try {
      op = parseClientOp(text);
    } catch (err) {
      this.sendError(err, refOf(text));
      return;
    }
    switch (op.op) {
      case 'ping':
        this.sendOp(
          op.ref === undefined
            ? { op: 'pong', time: Date.now() }
            : { op: 'pong', ref: op.ref, time: Date.now() },
        );
        return;
      case 'subscribe':
        this.subscribe(op);
        return;
      case 'unsubscribe': {
        const sub = this.subs.get(op.stream);
        if (!sub) {
          this.sendError(new AgentwireError('not_subscribed'), op.ref, op.stream);
          return;
        }
        this.options.hub.unsubscribe(sub);
        this.subs.delete(op.stream);
        this.sendOp(
          op.ref === undefined
            ? { op: 'unsubscribed', stream: op.stream }
            : { op: 'unsubscribed', stream: op.stream, ref: op.ref },
        );
        return;
      }
      case 'auth':
        this.session.refresh(op.token).then(
          (principal) => this.sendAuthenticated(principal, op.ref),
          (err: unknown) => this.sendError(err, op.ref),
        );
        return;
      case 'watch_tasks':
        this.taskWatch = this.options.taskWatches.watch(
          this.watchTarget,
          {
            query: op.query ?? {},
            offset: op.offset ?? 0,
            limit: op.limit ?? DEFAULT_TASK_WINDOW,
            ...(op.ref !== undefined && { ref: op.ref }),
          },
          this.taskWatch,
        );
        return;
      case 'unwatch_tasks':
        if (this.taskWatch) this.options.taskWatches.unwatch(this.taskWatch);
        this.taskWatch = undefined;
        this.sendOp(
          op.ref === undefined ? { op: 'tasks_unwatched' } : { op: 'tasks_unwatched', ref: op.ref },
        );
        return;
      case 'command': {
        const principal = this.options.security.enabled ? this.session.principal : undefined;
        const sender = {
          connection: this.id,
          ...(principal && { principal }),
          ...(principal?.subject !== undefined && { subject: principal.subject }),
        };
        this.options.commands.dispatch(op.command, sender).then(
          (result) =>
            this.sendOp(
              result === undefined ? { op: 'ack', ref: op.ref } : { op: 'ack', ref: op.ref, result },
            ),
          (err: unknown) => this.sendError(err, op.ref),
        );
        return;
      }
    }
  }

  private subscribe(op: Extract<ClientOp, { op: 'subscribe' }>): void {
    const { stream, ref } = op;
    if (this.subs.has(stream)) {
      this.sendError(new AgentwireError('already_subscribed'), ref, stream);
      return;
    }
    if (this.subs.size >= this.options.limits.maxSubscriptionsPerConnection) {
      this.sendError(
        new AgentwireError(
          'too_many_subscriptions',
          `At most ${this.options.limits.maxSubscriptionsPerConnection} subscriptions per connection.`,
        ),
        ref,
        stream,
      );
      return;
    }
    const sub = this.options.hub.open(stream, this);
    this.subs.set(stream, sub);
    const request = {
      ...(op.since && { since: op.since }),
      ...(op.snapshot !== undefined && { snapshot: op.snapshot }),
      ...(op.coalesce === true && { coalesce: true }),
    };
    this.options.hub
      .start(sub, request, (result) =>
        this.sendOp({ op: 'subscribed', ...result, ...(ref !== undefined && { ref }) }),
      )
      .catch((err: unknown) => {
        if (this.subs.get(stream) === sub) this.subs.delete(stream);
        this.sendError(err, ref, stream);
      });
  }
}

/** Best effort: echo the ref of a frame we could not parse, so the client can match the error. */
function refOf(text: string): string | undefined {
  const match = /"ref"\s*:\s*"([^"\\]{1,128})"/.exec(text.slice(0, 4096));
  return match?.[1];
}

function frameText(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
}
