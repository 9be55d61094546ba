import { AgentwireError, parseProducerOp, type GatewayOp } from '@agentwire/protocol';
import type { Logger } from '../logger.js';
import type { ProducerCredential } from './credential.js';
import type { ProducerLink } from './link.js';
import type { ProducerRegistry } from './registry.js';
import type { ProducerSession } from './session.js';

/**
 * One producer connection, whatever carries it: parses each op at the boundary, insists on `hello`
 * first, and turns the rest into registry calls. Nothing a producer sends can throw past here; a
 * bad op is answered with an `error` op and, before `hello`, ends the connection. `credential` is
 * who connected: it owns the producer id it says hello with, and its guard limits what it claims.
 */
export class ProducerConnection {
  private session: ProducerSession | undefined;
  private ended = false;
  /** With checks that wait, ops are handled one after another so each keeps its place in line. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: ProducerRegistry,
    private readonly link: ProducerLink,
    private readonly logger: Logger,
    private readonly credential: ProducerCredential,
  ) {}

  receive(value: unknown): void {
    if (!this.credential.guard && !this.registry.bindsAcrossNodes) {
      this.handle(value);
      return;
    }
    this.queue = this.queue.then(async () => {
      if (this.ended) return;
      try {
        await this.check(value);
      } catch (err) {
        this.refuse(err);
        return;
      }
      this.handle(value);
    });
  }

  /** What must be asked elsewhere before an op is handled: the claim guard, the id's owner. */
  private async check(value: unknown): Promise<void> {
    const streams = claimedStreams(value);
    if (streams.length > 0) await this.credential.guard?.(streams);
    const producerId = this.session ? undefined : helloProducerId(value);
    if (producerId !== undefined) await this.registry.admit(producerId, this.credential);
  }

  private handle(value: unknown): void {
    if (this.ended) return;
    try {
      const op = parseProducerOp(value);
      const session = this.session;
      if (!session) {
        if (op.op !== 'hello')
          throw new AgentwireError('invalid_message', 'The first op on a producer channel must be hello.');
        this.session = this.registry.attach(op, this.link, this.credential);
        return;
      }
      this.registry.touch(session);
      switch (op.op) {
        case 'hello':
          throw new AgentwireError('invalid_message', 'hello was already received on this connection.');
        case 'ping':
          this.link.send({ op: 'pong', time: Date.now() });
          return;
        case 'claim':
          this.registry.claim(session, op.streams);
          return;
        case 'worker':
          this.registry.setWorker(session, op.kinds, op.capacity);
          return;
        case 'ack':
          this.registry.ack(session, op.id, op.result);
          return;
        case 'reject':
          this.registry.reject(session, op.id, op.code, op.message);
          return;
        case 'bye':
          this.registry.bye(session);
          this.end();
          return;
      }
    } catch (err) {
      this.refuse(err);
    }
  }

  /** The transport closed under us. */
  closed(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.session) this.registry.detach(this.session, this.link);
  }

  private end(): void {
    this.ended = true;
    this.link.close(1000, 'bye');
  }

  private refuse(err: unknown): void {
    const e = err instanceof AgentwireError ? err : new AgentwireError('internal');
    if (!(err instanceof AgentwireError))
      this.logger.error({ err }, 'unexpected error on a producer channel');
    const op: GatewayOp = { op: 'error', code: e.code, message: e.message };
    if (e.details !== undefined) op.details = e.details;
    this.link.send(op);
    if (!this.session) {
      // Without a hello there is no producer to keep the connection for.
      this.ended = true;
      this.link.close(e.closeCode, e.code);
    }
  }
}

/** The producer id a hello names, read before validation (the op is validated after). */
function helloProducerId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { op, producerId } = value as { op?: unknown; producerId?: unknown };
  return op === 'hello' && typeof producerId === 'string' ? producerId : undefined;
}

/** The streams a hello or claim asks to own, read before validation (the op is validated after). */
function claimedStreams(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const { op, streams } = value as { op?: unknown; streams?: unknown };
  if ((op !== 'hello' && op !== 'claim') || !Array.isArray(streams)) return [];
  return streams.filter((s): s is string => typeof s === 'string');
}
