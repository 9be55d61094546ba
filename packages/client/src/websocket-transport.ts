import { SUBPROTOCOL, type ClientOp } from '@agentwire/protocol';
import { CLOSED, OPEN, type WebSocketConstructor, type WebSocketLike } from './socket.js';
import { TransportClosedError, type CloseInfo, type Transport } from './transport.js';

/** How long a polite close may wait for the peer's close frame before the socket is dropped. */
const CLOSE_GRACE_MS = 1_000;

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
      const ws = new this.#ctor(this.#url, SUBPROTOCOL);
      this.#ws = ws;
      ws.binaryType = 'arraybuffer';
      let opened = false;
      ws.onopen = () => {
        opened = true;
        resolve();
      };
      ws.onmessage = (event) => {
        this.#onMessage?.(toText(event.data));
      };
      // The close event that follows carries everything we need; without a handler `ws` would
      // rethrow the error event as an uncaught exception.
      ws.onerror = () => {};
      ws.onclose = (event) => {
        const info = { code: event.code, reason: event.reason };
        if (!opened) reject(new TransportClosedError(info));
        else if (!this.#closing) this.#onClose?.(info);
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

function toText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return decoder.decode(data);
  // Binary fragments or something else the protocol never sends: let the parser reject it.
  return String(data);
}
