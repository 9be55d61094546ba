/** Explicit, documented limits (docs/limits.md). Every breach is a typed error or a close code. */
export interface Limits {
  /** Largest HTTP request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Most events in one ingest batch (HTTP or in-process). */
  maxEventsPerBatch: number;
  /** Largest inbound WebSocket frame, in bytes. */
  maxFrameBytes: number;
  /** Most streams one connection may subscribe to at once. */
  maxSubscriptionsPerConnection: number;
  /** Bytes queued for a subscriber before it is disconnected as a slow consumer (close 4008). */
  maxBufferedBytes: number;
  /** Most events one history read returns. */
  maxReadLimit: number;
  /** Longest a long-poll (`GET /v1/streams/{stream}/poll`) waits for news, in ms; `wait=` is clamped to it. */
  maxPollWaitMs: number;
  /** Interval of SSE heartbeat comments, in ms; keeps proxies from closing idle streams. */
  sseHeartbeatMs: number;
  /** The `retry:` hint sent to SSE clients: how long a browser waits before reconnecting, in ms. */
  sseRetryMs: number;
  /**
   * Concurrent connections (WebSocket, Socket.IO, SSE, seed 004's terminal, waiting long-polls) per
   * authenticated user on one node; 0 = no limit.
   */
  maxConnectionsPerUser: number;
  /**
   * WebSockets and Socket.IO connections from one source address that are open but not yet
   * authenticated (waiting for their `auth`, at most `auth.authTimeoutMs`), on one node; 0 = no limit.
   */
  maxUnauthenticatedPerAddress: number;
  /** Such connections from all addresses together, on one node; 0 = no limit. */
  maxUnauthenticatedConnections: number;
  /** Sustained inbound messages per second per connection (token bucket); 0 = no limit. */
  maxMessagesPerSecond: number;
  /** Messages a connection may send in one burst before `maxMessagesPerSecond` applies. */
  messageBurst: number;
  /** Dropped messages, without a quiet second between them, after which a flooding connection is closed (4431). */
  rateLimitCloseAfter: number;
  /** Events per second each authenticated producer may ingest over HTTP; 0 = no limit. */
  maxIngestEventsPerSecond: number;
  /** Events a producer may ingest in one burst before `maxIngestEventsPerSecond` applies. */
  ingestBurst: number;
}

export const defaultLimits: Limits = {
  maxBodyBytes: 1024 * 1024,
  maxEventsPerBatch: 1000,
  maxFrameBytes: 64 * 1024,
  maxSubscriptionsPerConnection: 100,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxReadLimit: 1000,
  maxPollWaitMs: 25_000,
  sseHeartbeatMs: 15_000,
  sseRetryMs: 1_000,
  maxConnectionsPerUser: 5,
  maxUnauthenticatedPerAddress: 100,
  maxUnauthenticatedConnections: 1_000,
  maxMessagesPerSecond: 100,
  messageBurst: 100,
  rateLimitCloseAfter: 1_000,
  maxIngestEventsPerSecond: 2_000,
  ingestBurst: 10_000,
};
