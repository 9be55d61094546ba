import type { GatewayOp, ProducerPortConnection } from '@agentwire/protocol';
import type { Logger } from '../logger.js';
import { ProducerConnection } from './connection.js';
import { IN_PROCESS_PRODUCER } from './credential.js';
import type { ProducerLink } from './link.js';
import type { ProducerRegistry } from './registry.js';

/**
 * The producer channel as direct calls, for producers in the gateway's own process. Ops in both
 * directions are handed over on a later microtask, as a socket would, so neither side ever runs
 * inside the other's call stack, and the objects go through the same validation as frames.
 */
export function connectInProcess(
  registry: ProducerRegistry,
  logger: Logger,
  receive: (op: GatewayOp) => void,
  closed?: (code: number, reason: string) => void,
): ProducerPortConnection {
  let open = true;
  /** The producer closed its end: what is still on its way is not read, as on a closed socket. */
  let hungUp = false;
  const link: ProducerLink = {
    send: (op) => {
      if (!open) return;
      // A structured copy: the producer must not share objects with the gateway's queues.
      const copy = structuredClone(op);
      // Ops sent before the gateway closes still arrive (a refusal, then the close), as on a socket.
      queueMicrotask(() => {
        if (hungUp) return;
        try {
          receive(copy);
        } catch (err) {
          logger.error({ err }, 'an in-process producer threw while receiving an op');
        }
      });
    },
    close: (code, reason) => {
      if (!open) return;
      open = false;
      queueMicrotask(() => {
        connection.closed();
        closed?.(code, reason);
      });
    },
  };
  const connection = new ProducerConnection(registry, link, logger, IN_PROCESS_PRODUCER);
  return {
    send(op) {
      if (!open) return;
      let copy: unknown;
      try {
        copy = structuredClone(op);
      } catch {
        copy = undefined; // not plain data: refused by validation like any malformed op
      }
      queueMicrotask(() => connection.receive(copy));
    },
    close() {
      if (!open) return;
      open = false;
      hungUp = true;
      queueMicrotask(() => connection.closed());
    },
  };
}
