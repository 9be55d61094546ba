import type { GatewayOp, ProducerHelloOp, ProducerOp } from '@agentwire/protocol';

export type ChannelStatus = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** What a channel calls back into; the producer's command session implements it. */
export interface ChannelHandlers {
  /** The frame opening every (re)connection: the producer's whole standing, current at that moment. */
  hello(): ProducerHelloOp;
  /** One op from the gateway, already validated. */
  receive(op: GatewayOp): void;
  status(status: ChannelStatus, detail?: string): void;
}

/**
 * How watchers' commands reach this producer: one long-lived, self-healing connection to the
 * gateway. WebSocket, in-process and AMQP implementations ship here; each implements the same
 * members, and nothing above this interface (task signals, `ask`, chat, workers) depends on which.
 */
export interface CommandChannel {
  readonly status: ChannelStatus;
  /** Starts connecting and keeps reconnecting until `close()`. Called once. */
  open(handlers: ChannelHandlers): void;
  /**
   * Sends one op now if connected, and says whether it did. Nothing is queued: state ops (claims,
   * kinds) are restated by the next hello, and a lost ack makes the gateway resend the command.
   */
  send(op: ProducerOp): boolean;
  /**
   * Optional: whether the channel should keep the process alive. A producer with running tasks or
   * worker kinds must stay reachable; an idle one should not keep its process from exiting.
   */
  keepAlive?(busy: boolean): void;
  /** Sends `bye` if it can, then closes for good. */
  close(): Promise<void>;
}
