import type { Socket } from 'node:net';
import { parseGatewayFrame, PRODUCER_PATH, PRODUCER_SUBPROTOCOL, type ProducerOp } from '@agentwire/protocol';
import WebSocket from 'ws';
import { defaultReconnect, reconnectDelay, type ReconnectOptions } from '../retry.js';
import type { ChannelHandlers, ChannelStatus, CommandChannel } from './command-channel.js';

export interface WebSocketChannelOptions {
  /**
   * The gateway's base URL (`http://localhost:7070`) or the channel's own `ws(s)://…/v1/producer`;
   * or several nodes of one cluster, tried in turn: each reconnection goes to the next one, and
   * the hello restates the producer's tasks there, so commands follow it to its new node.
   */
  url: string | readonly string[];
  /** Sent as `Authorization: Bearer <token>` on the upgrade request. */
  token?: string;
  headers?: Record<string, string>;
  reconnect?: Partial<ReconnectOptions>;
}

/** Silence longer than this many heartbeats means the connection is dead, even if TCP has not noticed. */
const DEAD_AFTER_HEARTBEATS = 2.5;
const DEFAULT_HEARTBEAT_MS = 5_000;

/**
 * The producer channel over a WebSocket to `/v1/producer`. Reconnects on its own with backoff for
 * as long as it is open; every connection starts with a fresh hello, so the gateway always has the
 * producer's current standing and resends whatever it had not seen acknowledged.
 */
export class WebSocketChannel implements CommandChannel {
  #status: ChannelStatus = 'connecting';
  readonly #urls: string[];
  #node = 0;
  readonly #headers: Record<string, string>;
  readonly #reconnect: ReconnectOptions;
  #handlers: ChannelHandlers | undefined;
  #ws: WebSocket | undefined;
  #socket: Socket | undefined;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #lastHeard = 0;
  #heartbeatMs = DEFAULT_HEARTBEAT_MS;
  #busy = false;
  #closed = false;

  constructor(options: WebSocketChannelOptions) {
    this.#urls = (typeof options.url === 'string' ? [options.url] : [...options.url]).map(producerUrl);
    if (this.#urls.length === 0)
      throw new TypeError('url must be a gateway URL or a non-empty list of them.');
    this.#headers = { ...options.headers };
    if (options.token !== undefined) this.#headers.authorization = `Bearer ${options.token}`;
    this.#reconnect = { ...defaultReconnect, ...options.reconnect };
  }

  get status(): ChannelStatus {
    return this.#status;
  }

  open(handlers: ChannelHandlers): void {
    if (this.#handlers) throw new Error('This channel is already open.');
    this.#handlers = handlers;
    this.#connect();
  }

  send(op: ProducerOp): boolean {
    const ws = this.#ws;
    if (this.#status !== 'connected' || !ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(op));
    return true;
  }

  keepAlive(busy: boolean): void {
    this.#busy = busy;
    this.#applyRef();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#watchdog);
    const ws = this.#ws;
    this.#ws = undefined;
    this.#setStatus('closed');
    if (!ws) return;
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ op: 'bye' } satisfies ProducerOp));
    await new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1_000);
      timer.unref();
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(1000, 'bye');
    });
  }

  #connect(): void {
    if (this.#closed) return;
    this.#setStatus('connecting');
    const ws = new WebSocket(this.#urls[this.#node]!, PRODUCER_SUBPROTOCOL, {
      headers: this.#headers,
      handshakeTimeout: 10_000,
    });
    this.#ws = ws;
    ws.on('upgrade', (res) => {
      this.#socket = res.socket as Socket;
      this.#applyRef();
    });
    ws.on('open', () => {
      this.#lastHeard = Date.now();
      ws.send(JSON.stringify(this.#handlers!.hello()));
    });
    ws.on('message', (data, isBinary) => {
      if (ws !== this.#ws || isBinary) return;
      this.#lastHeard = Date.now();
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
      let op;
      try {
        op = parseGatewayFrame(text);
      } catch (err) {
        this.#handlers!.status(this.#status, `unreadable frame from the gateway: ${(err as Error).message}`);
        return;
      }
      if (op.op === 'welcome') {
        this.#attempt = 0;
        this.#heartbeatMs = op.heartbeatMs;
        this.#startWatchdog(ws);
        this.#setStatus('connected');
      }
      this.#handlers!.receive(op);
    });
    ws.on('error', () => {
      // 'close' follows every error; reconnecting happens there.
    });
    ws.on('close', (code, reason) => {
      if (ws !== this.#ws) return;
      this.#ws = undefined;
      this.#socket = undefined;
      clearInterval(this.#watchdog);
      if (this.#closed) return;
      this.#setStatus(
        'disconnected',
        `closed with ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`,
      );
      // The next node, if there are several: this one dropped us, is shutting down, or is gone.
      this.#node = (this.#node + 1) % this.#urls.length;
      const delay = reconnectDelay(this.#attempt++, this.#reconnect);
      this.#retryTimer = setTimeout(() => this.#connect(), delay);
      this.#retryTimer.unref();
    });
  }

  #startWatchdog(ws: WebSocket): void {
    clearInterval(this.#watchdog);
    this.#watchdog = setInterval(() => {
      if (Date.now() - this.#lastHeard > this.#heartbeatMs * DEAD_AFTER_HEARTBEATS) ws.terminate();
    }, this.#heartbeatMs);
    this.#watchdog.unref();
  }

  #applyRef(): void {
    if (this.#busy) this.#socket?.ref();
    else this.#socket?.unref();
  }

  #setStatus(status: ChannelStatus, detail?: string): void {
    if (status === this.#status && detail === undefined) return;
    this.#status = status;
    this.#handlers?.status(status, detail);
  }
}

/** `http://host:7070` → `ws://host:7070/v1/producer`; a `ws(s)://` URL with a path is used as given. */
export function producerUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = PRODUCER_PATH;
  else if (!u.pathname.endsWith(PRODUCER_PATH))
    u.pathname = `${u.pathname.replace(/\/+$/, '')}${PRODUCER_PATH}`;
  return u.toString();
}
