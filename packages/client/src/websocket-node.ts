import { WebSocket as WsWebSocket } from 'ws';
import type { WebSocketConstructor } from './socket.js';

/** Node has no WebSocket global before v22, so the `ws` package stands in. */
export const WebSocket: WebSocketConstructor = WsWebSocket;
