import type { ClientOp } from '@agentwire/protocol';

/** The transports a client can ride, best first; the client's status names the one in use. */
export type TransportKind = 'websocket' | 'sse' | 'polling';

export interface CloseInfo {
  code: number;
  reason: string;
  /**
   * The transport cannot work here (the WebSocket upgrade refused with an HTTP status, no WebSocket
   * in this environment, something other than the gateway answering its requests): trying the same
   * transport again is pointless, so the client moves to the next one at once.
   */
  unavailable?: boolean;
}

/**
 * One connection attempt to the gateway. The client creates a fresh transport per attempt and owns
 * everything above it (subscriptions, resume, heartbeat), so an SSE or long-polling transport only
 * has to move ops and frames. Outbound ops are typed; inbound frames stay text so the client parses
 * every one of them at a single boundary.
 */
export interface Transport {
  readonly kind: TransportKind;
  /** Resolves once ops can be sent; rejects with a {@link TransportClosedError} if it never opens. */
  connect(): Promise<void>;
  send(op: ClientOp): void;
  /** Closes and stops all callbacks; resolves when the underlying connection is gone. */
  close(code?: number, reason?: string): Promise<void>;
  /** Each inbound frame, as text. */
  onMessage(handler: (frame: string) => void): void;
  /** The connection ended after `connect()` resolved, without `close()` being called. */
  onClose(handler: (info: CloseInfo) => void): void;
}

export type TransportFactory = (url: string) => Transport;

export class TransportClosedError extends Error {
  readonly info: CloseInfo;

  constructor(info: CloseInfo, message = `connection closed before it opened (${info.code})`) {
    super(message);
    this.name = 'TransportClosedError';
    this.info = info;
  }
}
