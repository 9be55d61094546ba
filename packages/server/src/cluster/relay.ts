import { randomUUID } from 'node:crypto';
import { AgentwireError, type CommandDelivery, type ErrorBody } from '@agentwire/protocol';
import type { Logger } from '../logger.js';
import type { ProducerOptions } from '../producers/options.js';
import type { DeliverOptions, ProducerRegistry } from '../producers/registry.js';
import type { ClusterNode, InboxMessage } from './node.js';

/** A producer connected to another node: what the router holds instead of a local session. */
export class RemoteProducer {
  constructor(
    readonly node: string,
    readonly id: string,
  ) {}
}

/** A command for a producer on the receiving node. */
interface CommandMessage {
  k: 'command';
  id: string;
  from: string;
  producer: string;
  command: CommandDelivery;
}

/** The producer's acknowledgement or refusal, back to the node that relayed the command. */
interface DoneMessage {
  k: 'done';
  id: string;
  ok: boolean;
  result?: unknown;
  error?: ErrorBody;
}

interface PendingRelay {
  settle(outcome: { ok: true; result: unknown } | { ok: false; error: AgentwireError }): void;
  /** Set once the sender stopped waiting; the entry stays a while for a late acknowledgement. */
  expiry?: NodeJS.Timeout;
}

/**
 * Commands for producers connected to other nodes. The node a watcher sent a command to checks it
 * as usual, then puts it in the owning node's inbox; that node hands it to its registry (queued,
 * acknowledged, resent after the producer reconnects, as for any local command) and sends the
 * producer's acknowledgement or refusal back. The effect (`task:cancelled`, the start's result) is
 * recorded where the command came in, exactly as for a local producer.
 *
 * Timeouts follow the local ones: the sender is told `timeout` after `commandTimeoutMs`, but an
 * acknowledgement that arrives later, within `orphanAfterMs`, still records the effect, since the
 * producer did act on it.
 */
export class CommandRelay {
  private readonly pending = new Map<string, PendingRelay>();
  private readonly unlisten: () => void;
  private closed = false;

  constructor(
    private readonly node: ClusterNode,
    private readonly registry: ProducerRegistry,
    private readonly options: ProducerOptions,
    private readonly logger: Logger,
  ) {
    this.unlisten = node.onMessage((message) => this.receive(message));
  }

  get size(): number {
    return this.pending.size;
  }

  /** Sends `command` to a producer on another node; settles like `ProducerRegistry.deliver`. */
  send<R>(target: RemoteProducer, command: CommandDelivery, options: DeliverOptions<R> = {}): Promise<R> {
    if (this.closed) return Promise.reject(new AgentwireError('shutting_down'));
    const timeoutMs = this.options.commandTimeoutMs;
    return new Promise<R>((resolve, reject) => {
      const id = randomUUID();
      let waiting = true;
      const giveUp = (error: AgentwireError) => {
        if (waiting) reject(error);
        waiting = false;
      };
      const timer = setTimeout(() => {
        giveUp(
          new AgentwireError(
            'timeout',
            `The producer ${target.id} (on node ${target.node}) did not acknowledge the ${command.type} for ${command.stream} within ${timeoutMs} ms.`,
            { delivered: true },
          ),
        );
        entry.expiry = setTimeout(() => this.pending.delete(id), this.options.orphanAfterMs);
        entry.expiry.unref();
      }, timeoutMs);
      timer.unref();
      const entry: PendingRelay = {
        settle: (outcome) => {
          clearTimeout(timer);
          clearTimeout(entry.expiry);
          this.pending.delete(id);
          if (!outcome.ok) {
            options.onFail?.();
            giveUp(outcome.error);
            return;
          }
          const after = options.onAck ? options.onAck(outcome.result) : Promise.resolve(outcome.result as R);
          after.then(
            (value) => {
              if (waiting) resolve(value);
              waiting = false;
            },
            (err: unknown) => {
              if (!waiting)
                this.logger.error(
                  { err, stream: command.stream },
                  'recording a relayed command effect failed',
                );
              giveUp(err instanceof AgentwireError ? err : new AgentwireError('internal'));
            },
          );
        },
      };
      this.pending.set(id, entry);
      const message: CommandMessage = { k: 'command', id, from: this.node.id, producer: target.id, command };
      this.node.send(target.node, message).then(
        (listening) => {
          if (listening) return;
          entry.settle({
            ok: false,
            error: new AgentwireError(
              'no_producer',
              `The node ${target.node} that the producer of ${command.stream} was connected to is gone; it has not reconnected elsewhere yet.`,
              { stream: command.stream },
            ),
          });
        },
        (err: unknown) =>
          entry.settle({
            ok: false,
            error: new AgentwireError(
              'unavailable',
              `Could not relay the command: ${(err as Error).message}`,
            ),
          }),
      );
    });
  }

  /** Fails every relayed command still waiting, e.g. on shutdown. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unlisten();
    for (const entry of [...this.pending.values()]) {
      if (entry.expiry) clearTimeout(entry.expiry);
      entry.settle({ ok: false, error: new AgentwireError('shutting_down') });
    }
    this.pending.clear();
  }

  private receive(message: InboxMessage & Record<string, unknown>): void {
    if (message.k === 'command') this.deliverHere(message as unknown as CommandMessage);
    else if (message.k === 'done') this.done(message as unknown as DoneMessage);
  }

  private done(message: DoneMessage): void {
    const entry = typeof message.id === 'string' ? this.pending.get(message.id) : undefined;
    if (!entry) return; // the sender gave up long ago, or a duplicate
    if (message.ok) entry.settle({ ok: true, result: message.result });
    else entry.settle({ ok: false, error: AgentwireError.from(message.error) });
  }

  /** A command from another node for a producer connected here. */
  private deliverHere(message: CommandMessage): void {
    const { id, from, producer, command } = message;
    if (typeof id !== 'string' || typeof from !== 'string' || typeof command !== 'object' || command === null)
      return;
    const reply = (done: Omit<DoneMessage, 'k' | 'id'>) => {
      const out: DoneMessage = { k: 'done', id, ...done };
      this.node
        .send(from, out)
        .catch((err: unknown) =>
          this.logger.warn({ err: (err as Error).message, node: from }, 'could not answer a relayed command'),
        );
    };
    const refuse = (err: unknown) => {
      const error = err instanceof AgentwireError ? err : new AgentwireError('internal');
      reply({ ok: false, error: error.toJSON() });
    };
    if (this.closed) {
      refuse(new AgentwireError('shutting_down'));
      return;
    }
    const registry = this.registry;
    // The task's current owner here, if the command names a task someone here runs; a start goes
    // to the worker the sending node picked.
    const session =
      command.type === 'start'
        ? registry.find(producer)
        : (registry.ownerOf(command.stream) ?? registry.find(producer));
    if (!session) {
      refuse(
        new AgentwireError('no_producer', `The producer ${producer} is no longer connected to this node.`, {
          stream: command.stream,
        }),
      );
      return;
    }
    if (command.type === 'start') {
      // The sending node chose by this worker's reported grant; its credential here decides.
      if (!session.mayStart(command.stream, command.projectId)) {
        refuse(
          new AgentwireError('no_worker', `The worker ${producer} may not start tasks in this project.`, {
            kind: command.kind,
          }),
        );
        return;
      }
      registry.assign(session, command.stream);
    }
    registry
      .deliver(session, command, {
        onAck: async (result) => {
          reply({ ok: true, result });
          return result;
        },
        onFail: () => {
          if (command.type === 'start' && registry.ownerOf(command.stream) === session)
            registry.release(command.stream);
        },
      })
      .catch((err: unknown) => {
        // Sent but not acknowledged in time: a late acknowledgement still answers through onAck,
        // and the sending node has its own timer for telling the watcher.
        const late = err instanceof AgentwireError && err.code === 'timeout' && isDelivered(err.details);
        if (!late) refuse(err);
      });
  }
}

function isDelivered(details: unknown): boolean {
  return (
    typeof details === 'object' && details !== null && (details as { delivered?: unknown }).delivered === true
  );
}
