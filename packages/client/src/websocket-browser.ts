import type { WebSocketConstructor } from './socket.js';

/** Browsers (and Deno, Bun, Node ≥ 22) bring their own; bundlers pick this file via `#websocket`. */
export const WebSocket: WebSocketConstructor = globalThis.WebSocket;
