import { SUBPROTOCOL, type ClientOp } from '@agentwire/protocol';
import { CLOSED, OPEN, type WebSocketConstructor, type WebSocketLike } from './socket.js';
import { TransportClosedError, type CloseInfo, type Transport } from './transport.js';

/** How long a polite close may wait for the peer's close frame before the socket is dropped. */
const CLOSE_GRACE_MS = 1_000;
/**
 * How long the upgrade may take. Some proxies hold an upgrade request forever instead of refusing
 * it; without a bound, every such attempt would cost the whole handshake watchdog before the
 * client may count it as a failure and fall back.
 */
const CONNECT_TIMEOUT_MS = 15_000;

const decoder = new TextDecoder();

export class WebSocketTransport implements Transport {
  readonly kind = 'websocket';
  readonly #url: string;
  readonly #ctor: WebSocketConstructor;
  #ws: WebSocketLike | undefined;
  #onMessage: ((frame: string) => void) | undefined;
  #onClose: ((info: CloseInfo) => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(url: string, ctor: WebSocketConstructor) {
    this.#url = url;
    this.#ctor = ctor;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = new this.#ctor(this.#url, SUBPROTOCOL);
      } catch (err) {
        // Browsers throw here for URLs they will never connect to (mixed content, blocked ports).
        reject(new TransportClosedError({ code: 1006, reason: String(err), unavailable: true }));
        return;
      }
      this.#ws = ws;
      ws.binaryType = 'arraybuffer';
      let opened = false;
      let refused: string | undefined;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          ws.close();
        } catch {
          ws.terminate?.();
        }
      }, CONNECT_TIMEOUT_MS);
      ws.onopen = () => {
        clearTimeout(timer);
        opened = true;
        resolve();
      };
      ws.onmessage = (event) => {
        this.#onMessage?.(toText(event.data));
      };
      // The close event that follows carries the code; the error event is only read for a refused
      // upgrade. Without a handler `ws` would rethrow it as an uncaught exception.
      ws.onerror = (event: unknown) => {
        refused ??= refusedUpgrade(event);
      };
      ws.onclose = (event) => {
        clearTimeout(timer);
        const info: CloseInfo = { code: event.code, reason: event.reason };
        if (!opened) {
          if (timedOut) info.reason = 'The WebSocket upgrade got no answer in time.';
          // Something answered the upgrade with plain HTTP: a proxy or a gateway without WebSockets.
          if (refused !== undefined) Object.assign(info, { reason: refused, unavailable: true });
          reject(new TransportClosedError(info));
        } else if (!this.#closing) this.#onClose?.(info);
      };
    });
  }

  send(op: ClientOp): void {
    const ws = this.#ws;
    if (ws?.readyState === OPEN) ws.send(JSON.stringify(op));
  }

  close(code = 1000, reason = ''): Promise<void> {
    this.#closing ??= this.#close(code, reason);
    return this.#closing;
  }

  async #close(code: number, reason: string): Promise<void> {
    this.#onMessage = undefined;
    this.#onClose = undefined;
    const ws = this.#ws;
    if (!ws || ws.readyState === CLOSED) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      // A dead peer never answers the closing handshake; don't wait on it forever.
      const timer = setTimeout(() => {
        ws.terminate?.();
        resolve();
      }, CLOSE_GRACE_MS);
      const settle = ws.onclose;
      ws.onclose = (event) => {
        settle?.(event); // rejects a still-pending connect(); no onClose once closing
        done();
      };
      try {
        ws.close(code, reason);
      } catch {
        ws.terminate?.();
        done();
      }
    });
  }

  onMessage(handler: (frame: string) => void): void {
    this.#onMessage = handler;
  }

  onClose(handler: (info: CloseInfo) => void): void {
    this.#onClose = handler;
  }
}

/**
 * Node's `ws` reports an upgrade answered with an HTTP status as "Unexpected server response: 403"
 * (browsers hide the status, so there repeated failures decide instead). A 5xx is the gateway or a
 * proxy in trouble, which a retry may fix; anything else means no WebSocket gets through here.
 */
function refusedUpgrade(event: unknown): string | undefined {
  const message = (event as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return undefined;
  const status = /Unexpected server response: (\d{3})/.exec(message)?.[1];
  return status !== undefined && !status.startsWith('5') ? message : undefined;
}

function toText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return decoder.decode(data);
  // Binary fragments or something else the protocol never sends: let the parser reject it.
  return String(data);
}
