import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * One part of what the gateway serves on its port: a transport (WebSocket, SSE, long-poll,
 * Socket.IO, seed 004's terminal), a dialect's HTTP routes, the HTTP API, the metrics endpoint or
 * the static dashboard. The EdgeRouter offers each request and each WebSocket upgrade to the edges
 * in order, after the host, origin and drain checks every one of them needs; the first edge that
 * takes it answers it.
 */
export interface Edge {
  /**
   * Takes an HTTP request that is this edge's, answering it now or later, and returns true; false
   * leaves it to the next edge. A promise is for edges that only know after reading something.
   */
  handleRequest?(req: IncomingMessage, res: ServerResponse, url: URL): boolean | Promise<boolean>;
  /** Takes a WebSocket upgrade for this edge's path (accepting or refusing it) and returns true. */
  handleUpgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean;
}
