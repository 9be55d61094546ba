/**
 * The slice of the WebSocket API the client relies on. Both the `ws` package and the browser's
 * WebSocket satisfy it, and so can any test double or polyfill passed as the `WebSocket` option.
 */

// Handlers are declared with method-style parameters (bivariant) because `ws` and the DOM type their
// events with different, richer classes; the client reads only the fields named here.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

export interface SocketMessageEvent {
  data: unknown;
}

export interface SocketCloseEvent {
  code: number;
  reason: string;
}

export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  onopen: Handler<unknown> | null;
  onmessage: Handler<SocketMessageEvent> | null;
  onclose: Handler<SocketCloseEvent> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Node's `ws` only: drops the TCP connection without the closing handshake. */
  terminate?(): void;
}

export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): WebSocketLike;
}

/** `readyState` values, identical in every implementation. */
export const OPEN = 1;
export const CLOSED = 3;
