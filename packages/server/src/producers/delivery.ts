import { randomUUID } from 'node:crypto';
import { AgentwireError, type CommandDelivery } from '@agentwire/protocol';
import type { ProducerLink } from './link.js';

/**
 * One command on its way to a producer. It stays queued until the producer acknowledges or refuses
 * it, and is sent again with the same id after every reconnection, so a command that met a dropped
 * socket still arrives; the producer acts on an id once, which makes the effect exactly once.
 */
export interface Delivery {
  readonly id: string;
  readonly command: CommandDelivery;
  /** Sent on the current connection (reset when the connection drops). */
  sent: boolean;
  /** Sent at least once, on any connection: it may already have taken effect. */
  everSent: boolean;
  /** Settles the command: `result` on ack, an error on refusal, loss of the producer or shutdown. */
  settle(outcome: { ok: true; result: unknown } | { ok: false; error: AgentwireError }): void;
}

/** A producer's commands in the order they were issued; delivery order is issue order. */
export class DeliveryQueue {
  private readonly pending = new Map<string, Delivery>();

  get size(): number {
    return this.pending.size;
  }

  add(command: CommandDelivery, settle: Delivery['settle']): Delivery {
    const delivery: Delivery = { id: randomUUID(), command, sent: false, everSent: false, settle };
    this.pending.set(delivery.id, delivery);
    return delivery;
  }

  /** Sends every command not yet sent on `link`, oldest first. */
  flush(link: ProducerLink): void {
    for (const d of this.pending.values()) {
      if (d.sent) continue;
      d.sent = true;
      d.everSent = true;
      link.send({ op: 'command', id: d.id, command: d.command });
    }
  }

  /** The connection dropped: everything unacknowledged goes again on the next one. */
  unsend(): void {
    for (const d of this.pending.values()) d.sent = false;
  }

  /** Removes and returns the delivery `id`, if it is still waiting. */
  take(id: string): Delivery | undefined {
    const d = this.pending.get(id);
    if (d) this.pending.delete(id);
    return d;
  }

  /**
   * Withdraws a command that never left the gateway (its sender stopped waiting). One that was
   * sent stays: it may have taken effect, and its acknowledgement must still record that effect.
   */
  withdraw(id: string): boolean {
    const d = this.pending.get(id);
    if (!d || d.everSent) return false;
    this.pending.delete(id);
    return true;
  }

  /** Fails every waiting command, e.g. because the producer is gone. */
  failAll(error: AgentwireError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const d of all) d.settle({ ok: false, error });
  }

  /** Whether a start of `stream` is still waiting for its worker's acknowledgement. */
  hasStart(stream: string): boolean {
    for (const d of this.pending.values())
      if (d.command.type === 'start' && d.command.stream === stream) return true;
    return false;
  }

  /** Start commands in flight, which count towards a worker's load before their task exists. */
  countStarts(): number {
    let n = 0;
    for (const d of this.pending.values()) if (d.command.type === 'start') n++;
    return n;
  }
}

export function noProducerError(message: string): AgentwireError {
  return new AgentwireError('no_producer', message);
}
