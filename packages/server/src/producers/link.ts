import type { GatewayOp } from '@agentwire/protocol';

/**
 * The gateway's end of one producer connection, whatever carries it: a WebSocket, direct calls in
 * the same process, or RabbitMQ (`amqp/producer-endpoint.ts`). The registry only ever talks to producers through
 * this, so adding a transport never touches routing.
 */
export interface ProducerLink {
  /** Sends one op; a link that is closed drops it (the queue resends after a reconnection). */
  send(op: GatewayOp): void;
  /** Ends the connection from the gateway's side, e.g. when a newer connection replaced it. */
  close(code: number, reason: string): void;
}
