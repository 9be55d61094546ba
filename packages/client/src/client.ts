import {
  AgentwireError,
  assertStreamName,
  Backoff,
  errorCodeForClose,
  parseServerOp,
  parseSince,
  type BackoffOptions,
  type ClientOp,
  type Command,
  type ErrorCode,
  type ServerOp,
} from '@agentwire/protocol';
import { WebSocket as DefaultWebSocket } from '#websocket';
import { Emitter, type Listener } from './emitter.js';
import { TransportSelector, type FallbackOptions } from './fallback.js';
import type { WebSocketConstructor } from './socket.js';
import { StreamSubscription, type SubscribeOptions, type Subscription } from './subscription.js';
import type { CloseInfo, Transport, TransportFactory, TransportKind } from './transport.js';
import { NodeList, type GatewayUrl } from './nodes.js';
import { TaskListWatch, type TaskList, type TaskListOptions } from './task-list.js';
import { TokenKeeper } from './token-keeper.js';
import { webSocketUrl } from './url.js';

export type ClientStatus = 'connecting' | TransportKind | 'offline' | 'closed';

/** Also `transports`, `fallbackAfter`, `probeIntervalMs` and `fetch`: see {@link FallbackOptions}. */
export interface ClientOptions extends FallbackOptions {
  /**
   * The gateway: its base URL (`http://localhost:7070`) or its WebSocket URL. Or several nodes of
   * one cluster: the first connection goes to the first, every reconnection to the next (shuffle
   * the list to spread clients); or a function asked for the URL before every connection.
   */
  url: GatewayUrl;
  /** The WebSocket implementation; defaults to `ws` in Node and the global one in browsers. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect delays; `false` stays offline after the first disconnect. */
  reconnect?: Partial<BackoffOptions> | false;
  /** Ping interval, overriding the gateway's `hello`; the connection is declared dead after 2.5×. */
  heartbeatMs?: number;
  /** Replaces the built-in transports and their fallback with a transport of your own. */
  transport?: TransportFactory;
  /**
   * Where tokens come from on a gateway with auth: asked at every connection (the token is sent
   * as the first frame, never in the URL) and again before the token expires, so the connection
   * and its subscriptions survive the refresh. `token_expired` then reconnects instead of stopping.
   */
  getToken?: () => string | Promise<string>;
}

export interface ClientEvents {
  status: [status: ClientStatus];
  /** Connection-level errors, malformed frames and errors no subscription or command owns. */
  error: [error: AgentwireError];
}

export interface Client {
  readonly status: ClientStatus;
  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void;
  off<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): void;
  /** Starts following a stream; safe before the connection is up. One subscription per stream. */
  subscribe(stream: string, options?: SubscribeOptions): Subscription;
  /** Sends a command (cancel, answer, message, start) and resolves with the gateway's ack result. */
  command(command: Command): Promise<unknown>;
  /**
   * Follows a window of the gateway's task list, filtered and sorted there (newest task first).
   * One per client: close it, or move it with `update`, rather than opening another.
   */
  watchTasks(options?: TaskListOptions): TaskList;
  /** Drops the current connection (or waiting period) and connects now, e.g. after a token refresh. */
  reconnect(): void;
  close(): Promise<void>;
}

const DEFAULT_HEARTBEAT_MS = 15_000;
/** Silence longer than this many heartbeats means the connection is dead. */
const DEAD_AFTER_HEARTBEATS = 2.5;
/** Close codes that retrying cannot fix; the user has to act (new token, other rights). */
const fatal = new Set<ErrorCode>(['unauthorized', 'token_expired', 'forbidden']);
/** Our own close code when we give up on a silent connection. */
const CLOSE_DEAD = 4000;

interface PendingCommand {
  op: ClientOp;
  sent: boolean;
  resolve: (result: unknown) => void;
  reject: (error: AgentwireError) => void;
}

class GatewayClient implements Client {
  /** Which node each connection goes to (nodes.ts). */
  readonly #nodes: NodeList;
  readonly #createTransport: TransportFactory;
  /** Picks WebSocket, SSE or long-polling and switches between them (fallback.ts); none for a custom transport. */
  readonly #selector: TransportSelector | undefined;
  readonly #backoff: Backoff | undefined;
  readonly #backoffOptions: Partial<BackoffOptions>;
  readonly #heartbeatOverride: number | undefined;
  readonly #emitter = new Emitter<ClientEvents>();
  readonly #subs = new Map<string, StreamSubscription>();
  readonly #commands = new Map<string, PendingCommand>();
  #taskList: TaskListWatch | undefined;
  #status: ClientStatus = 'connecting';
  #transport: Transport | undefined;
  #open = false;
  #refs = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #heartbeatMs: number;
  #lastReceived = 0;
  /** The last connection-level error frame, so the close that follows it is not reported twice. */
  #lastError: AgentwireError | undefined;
  #stopped = false;
  #closing: Promise<void> | undefined;
  readonly #keeper: TokenKeeper | undefined;

  constructor(options: ClientOptions) {
    this.#keeper =
      options.getToken &&
      new TokenKeeper(options.getToken, {
        send: (op) => this.#transport?.send(op),
        error: (error) => this.#emitter.emit('error', error),
      });
    const nodes = (this.#nodes = new NodeList(options.url));
    if (options.WebSocket !== undefined && typeof options.WebSocket !== 'function') {
      throw new TypeError('agentwire: no WebSocket implementation here; pass one as the WebSocket option');
    }
    if (options.transport) {
      this.#createTransport = options.transport;
    } else {
      const selector = new TransportSelector(options, {
        // Read at every connection: a reconnection may go to another node.
        get url() {
          return nodes.current();
        },
        // Without one (an old browser, a worker), the selector starts on SSE or long-polling.
        WebSocket: options.WebSocket ?? DefaultWebSocket,
        streams: () => this.#subs.keys(),
        getToken: options.getToken,
        demoted: () => this.#online(),
        upgrade: (transport, frames) => this.#upgrade(transport, frames),
      });
      this.#selector = selector;
      this.#createTransport = () => selector.create();
    }
    this.#backoffOptions = options.reconnect || {};
    this.#backoff = options.reconnect === false ? undefined : new Backoff(this.#backoffOptions);
    if (options.heartbeatMs !== undefined && !(options.heartbeatMs > 0)) {
      throw new RangeError('heartbeatMs must be a positive number of milliseconds');
    }
    this.#heartbeatOverride = options.heartbeatMs;
    this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    globalEvents()?.addEventListener('online', this.#online);
    this.#connect();
  }

  get status(): ClientStatus {
    return this.#status;
  }

  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#emitter.on(event, listener);
  }

  off<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): void {
    this.#emitter.off(event, listener);
  }

  subscribe(stream: string, options: SubscribeOptions = {}): Subscription {
    if (this.#closing) throw new AgentwireError('unavailable', 'The client is closed.');
    assertStreamName(stream);
    if (options.since !== undefined) parseSince(options.since);
    if (this.#subs.has(stream)) {
      throw new AgentwireError(
        'already_subscribed',
        `Already subscribed to ${stream}; share that subscription.`,
      );
    }
    const sub = new StreamSubscription(this.#host, stream, options);
    this.#subs.set(stream, sub);
    if (this.#open) sub.attach();
    return sub;
  }

  command(command: Command): Promise<unknown> {
    if (this.#closing) return Promise.reject(new AgentwireError('unavailable', 'The client is closed.'));
    const ref = this.#nextRef('c');
    return new Promise((resolve, reject) => {
      const pending: PendingCommand = { op: { op: 'command', ref, command }, sent: false, resolve, reject };
      this.#commands.set(ref, pending);
      if (this.#open) this.#sendCommand(pending);
    });
  }

  watchTasks(options: TaskListOptions = {}): TaskList {
    if (this.#closing) throw new AgentwireError('unavailable', 'The client is closed.');
    if (this.#taskList) {
      throw new AgentwireError('already_subscribed', 'This client already watches the task list; update it.');
    }
    const list = new TaskListWatch(
      {
        send: (op) => this.#host.send(op),
        nextRef: () => this.#nextRef('t'),
        release: (l) => {
          if (this.#taskList === l) this.#taskList = undefined;
        },
      },
      options,
    );
    this.#taskList = list;
    if (this.#open) list.attach();
    return list;
  }

  reconnect(): void {
    if (this.#closing) throw new AgentwireError('unavailable', 'The client is closed.');
    this.#stopped = false;
    this.#backoff?.reset();
    void this.#drop();
    this.#connect();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    globalEvents()?.removeEventListener('online', this.#online);
    this.#selector?.close();
    this.#setStatus('closed');
    for (const sub of [...this.#subs.values()]) sub.close();
    this.#taskList?.close();
    const closed = this.#drop(1000, 'client closed');
    this.#failCommands(new AgentwireError('unavailable', 'The client was closed.'), true);
    this.#emitter.clear();
    await closed;
  }

  // ---- connection lifecycle ----------------------------------------------------------------------

  /** The browser regained its network: waiting out the backoff would only delay the user. */
  readonly #online = (): void => {
    if (this.#status !== 'offline') return;
    this.#backoff?.reset();
    void this.#drop();
    this.#connect();
  };

  #connect(): void {
    if (this.#closing || this.#stopped) return;
    this.#setStatus('connecting');
    const transport = this.#createTransport(webSocketUrl(this.#nodes.next()));
    this.#use(transport);
    transport.connect().then(
      () => {
        if (this.#transport === transport) this.#opened(transport);
      },
      (err: unknown) => {
        if (this.#transport !== transport) return;
        const info = (err as { info?: CloseInfo }).info ?? { code: 1006, reason: String(err) };
        this.#disconnected(info);
      },
    );
  }

  /** Makes `transport` the connection: only its frames and its close count from now on. */
  #use(transport: Transport): void {
    this.#transport = transport;
    transport.onMessage((frame) => {
      if (this.#transport === transport) this.#receive(frame);
    });
    transport.onClose((info) => {
      if (this.#transport === transport) this.#disconnected(info);
    });
    // Before the first hello the watchdog also bounds how long an unanswered handshake may take.
    this.#lastReceived = Date.now();
    this.#armWatchdog(transport);
  }

  /**
   * A better transport connected in the background: every subscription moves onto it, resuming
   * from its position, so the switch neither loses nor repeats an event (the old connection's
   * frames are ignored from here on). Declined while a command awaits its ack, which dropping the
   * old connection would fail although nothing went wrong; the selector tries again shortly.
   */
  #upgrade(transport: Transport, frames: readonly string[]): boolean {
    if (this.#closing || !this.#open || [...this.#commands.values()].some((c) => c.sent)) return false;
    void this.#drop(1000, 'upgrading');
    this.#use(transport);
    this.#opened(transport);
    for (const frame of frames) if (this.#transport === transport) this.#receive(frame);
    return true;
  }

  #opened(transport: Transport): void {
    this.#selector?.opened(transport.kind);
    this.#open = true;
    this.#keeper?.opened();
    this.#setStatus(transport.kind);
    this.#lastReceived = Date.now();
    this.#startPing(transport);
    for (const sub of this.#subs.values()) sub.attach();
    this.#taskList?.attach();
    for (const pending of this.#commands.values()) if (!pending.sent) this.#sendCommand(pending);
  }

  /** Forgets the current transport (closing it in the background) and every timer tied to it. */
  #drop(code = CLOSE_DEAD, reason = 'reconnecting'): Promise<void> {
    const transport = this.#transport;
    this.#transport = undefined;
    this.#open = false;
    this.#lastError = undefined;
    this.#keeper?.stop();
    this.#stopHeartbeat();
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    for (const sub of this.#subs.values()) sub.detach();
    // Sent commands may or may not have reached the producer; only the caller can decide to retry.
    this.#failCommands(
      new AgentwireError('unavailable', 'The connection was lost before the command was acknowledged.'),
      false,
    );
    return transport ? transport.close(code, reason) : Promise.resolve();
  }

  #disconnected(info: CloseInfo, error?: AgentwireError): void {
    const lastError = this.#lastError;
    const kind = this.#transport?.kind;
    const wasOpen = this.#open;
    void this.#drop();
    let code: ErrorCode | undefined;
    if (error) {
      code = error.code;
      this.#emitter.emit('error', error);
    } else if (lastError && lastError.closeCode === info.code) {
      code = lastError.code; // already reported when its frame arrived
    } else {
      code = errorCodeForClose(info.code);
      // Gateways often put the bare code in the reason; the registry's message says more.
      const message = info.reason && info.reason !== code ? info.reason : undefined;
      if (code) this.#emitter.emit('error', new AgentwireError(code, message, { close: info.code }));
    }
    if (this.#closing) return;
    // An expired token is fixed by the next one getToken() gives; other refusals need the user.
    const renewable = code === 'token_expired' && this.#keeper !== undefined;
    if (!this.#backoff || (code !== undefined && fatal.has(code) && !renewable)) {
      this.#stopped = true;
      this.#setStatus('closed');
      return;
    }
    this.#setStatus('offline');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect();
    }, this.#backoff.next());
    // Last: a move to another transport may reconnect at once (through `demoted`).
    if (kind) this.#selector?.closed(kind, info, wasOpen);
  }

  // ---- inbound -----------------------------------------------------------------------------------

  #receive(frame: string): void {
    this.#lastReceived = Date.now();
    let op: ServerOp;
    try {
      op = parseServerOp(frame);
    } catch (err) {
      // One bad frame says nothing about the next; report it and keep the connection.
      this.#emitter.emit('error', toAgentwireError(err));
      return;
    }
    switch (op.op) {
      case 'hello':
        this.#backoff?.reset();
        if (
          this.#heartbeatOverride === undefined &&
          op.heartbeatMs > 0 &&
          op.heartbeatMs !== this.#heartbeatMs
        ) {
          this.#heartbeatMs = op.heartbeatMs;
          if (this.#transport) this.#startPing(this.#transport);
        }
        return;
      case 'subscribed':
        this.#subs.get(op.stream)?.handleSubscribed(op);
        return;
      case 'event':
        this.#subs.get(op.event.stream)?.handleEvents([op.event]);
        return;
      case 'events':
        this.#subs.get(op.stream)?.handleEvents(op.events);
        return;
      case 'ack': {
        const pending = this.#commands.get(op.ref);
        this.#commands.delete(op.ref);
        pending?.resolve(op.result);
        return;
      }
      case 'error':
        this.#receiveError(op.code, op.message, op.ref, op.stream, op.details);
        return;
      case 'authenticated':
        this.#keeper?.authenticated(op);
        return;
      case 'tasks':
        this.#taskList?.handleFrame(op);
        return;
      case 'unsubscribed':
      case 'tasks_unwatched':
      case 'pong':
        return;
    }
  }

  #receiveError(code: string, message: string, ref?: string, stream?: string, details?: unknown): void {
    const error = AgentwireError.from({ code, message, details });
    const pending = ref === undefined ? undefined : this.#commands.get(ref);
    if (pending) {
      this.#commands.delete(ref!);
      pending.reject(error);
      return;
    }
    if (stream === undefined && this.#taskList?.handleError(error, ref)) return;
    const sub =
      stream !== undefined
        ? this.#subs.get(stream)
        : [...this.#subs.values()].find((s) => ref !== undefined && s.ref === ref);
    if (sub) {
      sub.handleError(error, ref);
      return;
    }
    if (ref === undefined && stream === undefined) this.#lastError = error;
    this.#emitter.emit('error', error);
  }

  // ---- heartbeat ---------------------------------------------------------------------------------

  #startPing(transport: Transport): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => transport.send({ op: 'ping' }), this.#heartbeatMs);
    this.#armWatchdog(transport);
  }

  /** One timer for the whole connection, re-armed for the remaining silence budget when it fires. */
  #armWatchdog(transport: Transport): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    const limit = this.#heartbeatMs * DEAD_AFTER_HEARTBEATS;
    const arm = (delay: number) => {
      const due = Date.now() + delay;
      this.#watchdog = setTimeout(() => check(due), delay);
    };
    const check = (due: number) => {
      if (this.#transport !== transport) return;
      const now = Date.now();
      const silent = now - this.#lastReceived;
      if (silent < limit) {
        arm(limit - silent);
        return;
      }
      // A timer that fires late means we were frozen (busy loop, throttled background tab, laptop
      // sleep), not that the gateway was silent: frames may be waiting unread. Silence we could not
      // observe proves nothing, so probe and start the budget again from now.
      if (now - due > this.#heartbeatMs / 2) {
        this.#lastReceived = now;
        transport.send({ op: 'ping' });
        arm(limit);
        return;
      }
      this.#watchdog = undefined;
      this.#disconnected(
        { code: CLOSE_DEAD, reason: 'heartbeat timeout' },
        new AgentwireError('timeout', `No message from the gateway for ${silent} ms; reconnecting.`),
      );
    };
    arm(Math.max(0, limit - (Date.now() - this.#lastReceived)));
  }

  #stopHeartbeat(): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#pingTimer = undefined;
    this.#watchdog = undefined;
  }

  // ---- helpers -----------------------------------------------------------------------------------

  readonly #host = {
    send: (op: ClientOp): boolean => {
      if (!this.#open || !this.#transport) return false;
      this.#transport.send(op);
      return true;
    },
    nextRef: () => this.#nextRef('s'),
    newBackoff: () => new Backoff(this.#backoffOptions),
    release: (sub: StreamSubscription) => {
      if (this.#subs.get(sub.stream) === sub) this.#subs.delete(sub.stream);
    },
    command: (command: Command) => this.command(command),
  };

  #nextRef(prefix: string): string {
    return `${prefix}${++this.#refs}`;
  }

  #sendCommand(pending: PendingCommand): void {
    pending.sent = true;
    this.#transport?.send(pending.op);
  }

  #failCommands(error: AgentwireError, all: boolean): void {
    for (const [ref, pending] of this.#commands) {
      if (!all && !pending.sent) continue; // not sent yet: it goes out on the next connection
      this.#commands.delete(ref);
      pending.reject(error);
    }
  }

  #setStatus(status: ClientStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#emitter.emit('status', status);
  }
}

interface GlobalEvents {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** `window` (or a worker's global scope) where it exists; nothing in Node. */
function globalEvents(): GlobalEvents | undefined {
  const g = globalThis as Partial<GlobalEvents>;
  return typeof g.addEventListener === 'function' && typeof g.removeEventListener === 'function'
    ? (g as GlobalEvents)
    : undefined;
}

export function createClient(options: ClientOptions): Client {
  return new GatewayClient(options);
}

function toAgentwireError(err: unknown): AgentwireError {
  if (err instanceof AgentwireError) return err;
  return new AgentwireError('invalid_message', err instanceof Error ? err.message : String(err));
}
