import {
  AgentwireError,
  isErrorCode,
  isTerminal,
  precompileProducerOps,
  PRODUCER_PROTOCOL_VERSION,
  type AnyEnvelope,
  type CommandDelivery,
  type ProducerHelloOp,
} from '@agentwire/protocol';
import type { PublishGrant } from '../auth/publish-grant.js';
import type { LogEngine } from '../log/engine.js';
import type { Logger } from '../logger.js';
import type { SnapshotService } from '../snapshots.js';
import type { ProducerCredential } from './credential.js';
import { noProducerError } from './delivery.js';
import { producerIdTakenMessage, type ProducerIdBinding } from './id-binding.js';
import type { ProducerLink } from './link.js';
import type { ProducerOptions } from './options.js';
import { ProducerSession } from './session.js';
import { WorkerPicker, type NewTask } from './workers.js';

/** Appends events as the gateway itself (validated like any producer's). */
export type GatewayPublish = (stream: string, events: unknown[]) => Promise<{ results: { seq: number }[] }>;

export interface ProducerRegistryDeps {
  engine: LogEngine;
  snapshots: SnapshotService;
  publish: GatewayPublish;
  logger: Logger;
  options: ProducerOptions;
}

export interface DeliverOptions<R> {
  /**
   * Runs once the producer acknowledged, even if the sender stopped waiting: the effect of a
   * command the producer carried out must be recorded whatever happened to its sender.
   */
  onAck?: (result: unknown) => Promise<R>;
  /** Runs when the command fails without an acknowledgement (refused, timed out, producer gone). */
  onFail?: () => void;
}

/** A connected worker as another gateway node sees it. */
export interface WorkerInfo {
  producerId: string;
  kinds: readonly string[];
  capacity?: number;
  /** Tasks it runs (what load sharing compares). */
  tasks: number;
  /** What its credential may publish: which new tasks it may be given. */
  grant: PublishGrant;
}

/** Told whenever a task's owner here changes: a session claimed it (again), or nobody here owns it. */
export type OwnerListener = (stream: string, owner: ProducerSession | undefined) => void;

/** Close codes the gateway ends a producer connection with (docs/protocol.md, producer channel). */
export const PRODUCER_CLOSE_REPLACED = 4100;
export const PRODUCER_CLOSE_SILENT = 4101;

const ENDS_TASK = new Set(['task:complete', 'task:failed']);

/**
 * Every producer the gateway knows, the tasks each owns, and the workers per task kind. Commands
 * reach producers only through here: queued per producer, acknowledged one by one, resent after a
 * reconnection. A producer silent for `orphanAfterMs` is gone, and each of its tasks still running
 * is marked failed with reason `orphaned`, so no task stays "running" forever.
 */
export class ProducerRegistry {
  private readonly sessions = new Map<string, ProducerSession>();
  private readonly owners = new Map<string, ProducerSession>();
  private readonly ownerWaiters = new Map<string, Set<() => void>>();
  private readonly ownerListeners = new Set<OwnerListener>();
  private readonly picker = new WorkerPicker();
  private readonly sweeper: NodeJS.Timeout;
  private readonly unlisten: () => void;
  private closed = false;
  /** Orphan markings in flight, so close() can wait for them. */
  private readonly orphaning = new Set<Promise<void>>();
  /** Holds producer ids across gateway nodes, when there are several. */
  private binding: ProducerIdBinding | undefined;

  constructor(private readonly deps: ProducerRegistryDeps) {
    precompileProducerOps();
    const every = Math.max(20, Math.min(1_000, Math.floor(deps.options.orphanAfterMs / 4)));
    this.sweeper = setInterval(() => this.sweep(Date.now()), every);
    this.sweeper.unref();
    // A task owned here is released when it ends, so its events are wanted.
    this.unlisten = deps.engine.onAppend((stream, events) => this.onAppend(stream, events), {
      wants: (stream) => this.owners.has(stream),
      skipped: () => {},
    });
  }

  get options(): ProducerOptions {
    return this.deps.options;
  }

  // ---- connections ------------------------------------------------------------------------------

  /** Binds producer ids across gateway nodes as well as here (the cluster sets it). */
  bindIdsWith(binding: ProducerIdBinding): void {
    this.binding = binding;
  }

  /** Whether a hello must wait for `admit` before `attach`. */
  get bindsAcrossNodes(): boolean {
    return this.binding !== undefined;
  }

  /**
   * Checks, before `attach`, that no producer of another credential holds `producerId` on any
   * node; throws `producer_id_taken` if one does.
   */
  async admit(producerId: string, credential: ProducerCredential): Promise<void> {
    this.assertOwnId(producerId, credential);
    await this.binding?.bind(producerId, credential.identity);
  }

  /**
   * A connection said hello: a new producer, or one coming back to its queue. The id belongs to
   * the credential that said hello with it first: another one is refused with `producer_id_taken`
   * and the producer holding it keeps its connection, its tasks and its queue.
   */
  attach(hello: ProducerHelloOp, link: ProducerLink, credential: ProducerCredential): ProducerSession {
    if (this.closed) throw new AgentwireError('shutting_down');
    if (hello.version !== PRODUCER_PROTOCOL_VERSION) {
      throw new AgentwireError(
        'invalid_message',
        `This gateway speaks producer protocol version ${PRODUCER_PROTOCOL_VERSION}, not ${hello.version}.`,
      );
    }
    this.assertOwnId(hello.producerId, credential);
    const now = Date.now();
    let session = this.sessions.get(hello.producerId);
    const resumed = session !== undefined;
    if (!session) {
      session = new ProducerSession(hello.producerId, now, credential);
      this.sessions.set(session.id, session);
    }
    if (session.link && session.link !== link) {
      // Two live connections for one producer would split its commands; the newest is the real one.
      session.link.close(PRODUCER_CLOSE_REPLACED, 'replaced by a newer connection');
    }
    session.queue.unsend();
    session.link = link;
    session.lastSeen = now;
    session.name = hello.name;
    this.restate(session, hello.streams ?? []);
    this.setWorker(session, hello.kinds ?? [], hello.capacity);
    link.send({
      op: 'welcome',
      version: PRODUCER_PROTOCOL_VERSION,
      producerId: session.id,
      heartbeatMs: this.deps.options.heartbeatMs,
      orphanAfterMs: this.deps.options.orphanAfterMs,
      resumed,
    });
    session.queue.flush(link);
    this.deps.logger.debug(
      { producer: session.id, resumed, tasks: session.streams.size },
      'producer attached',
    );
    return session;
  }

  private assertOwnId(producerId: string, credential: ProducerCredential): void {
    const session = this.sessions.get(producerId);
    if (session && session.identity !== credential.identity) {
      this.deps.logger.warn(
        { producer: producerId },
        'a hello with a producer id held by another credential was refused',
      );
      throw new AgentwireError('producer_id_taken', producerIdTakenMessage(producerId));
    }
  }

  /** The connection dropped. The producer keeps its tasks and queue until `orphanAfterMs` of silence. */
  detach(session: ProducerSession, link: ProducerLink): void {
    if (session.link !== link) return;
    session.link = undefined;
    session.queue.unsend();
    this.deps.logger.debug({ producer: session.id }, 'producer disconnected');
  }

  touch(session: ProducerSession): void {
    session.lastSeen = Date.now();
  }

  /** The producer left on purpose: nothing will come back for its tasks, so mark them now. */
  bye(session: ProducerSession): void {
    this.gone(session, 'left without finishing it');
  }

  claim(session: ProducerSession, streams: readonly string[]): void {
    if (this.sessions.get(session.id) !== session) return;
    for (const stream of streams) {
      const previous = this.owners.get(stream);
      // Every claim is told, repeated ones too: after a reconnection it restates ownership elsewhere.
      this.ownersChanged(stream, session);
      if (previous === session) continue;
      if (previous) {
        previous.streams.delete(stream);
        this.deps.logger.info(
          { stream, from: previous.id, to: session.id },
          'task taken over by another producer',
        );
      }
      this.owners.set(stream, session);
      session.streams.add(stream);
      const waiters = this.ownerWaiters.get(stream);
      if (waiters) {
        this.ownerWaiters.delete(stream);
        for (const wake of waiters) wake();
      }
    }
  }

  setWorker(session: ProducerSession, kinds: readonly string[], capacity: number | undefined): void {
    session.kinds = [...new Set(kinds)];
    session.capacity = capacity;
  }

  ack(session: ProducerSession, id: string, result: unknown): void {
    // Unknown ids are duplicates of an ack that already arrived, or commands whose sender gave up
    // before they were ever sent; either way there is nothing left to do.
    session.queue.take(id)?.settle({ ok: true, result });
  }

  reject(session: ProducerSession, id: string, code: string, message: string): void {
    const error = new AgentwireError(
      isErrorCode(code) ? code : 'command_failed',
      message || 'The producer refused the command.',
    );
    session.queue.take(id)?.settle({ ok: false, error });
  }

  // ---- routing ----------------------------------------------------------------------------------

  ownerOf(stream: string): ProducerSession | undefined {
    return this.owners.get(stream);
  }

  /** The producer `producerId`, if it is known here (connected, or away for less than `orphanAfterMs`). */
  find(producerId: string): ProducerSession | undefined {
    return this.sessions.get(producerId);
  }

  /** Follows ownership changes, e.g. to mirror them where other gateway nodes can see them. */
  watchOwners(listener: OwnerListener): () => void {
    this.ownerListeners.add(listener);
    return () => this.ownerListeners.delete(listener);
  }

  /** The owner of `stream`, waiting up to `claimWaitMs` for a claim that may trail the task's events. */
  async awaitOwner(stream: string): Promise<ProducerSession | undefined> {
    const owner = this.owners.get(stream);
    if (owner || this.closed) return owner;
    await new Promise<void>((resolve) => {
      let waiters = this.ownerWaiters.get(stream);
      if (!waiters) this.ownerWaiters.set(stream, (waiters = new Set()));
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.ownerWaiters.get(stream) === waiters) this.ownerWaiters.delete(stream);
        resolve();
      };
      const timer = setTimeout(wake, this.deps.options.claimWaitMs);
      timer.unref();
      waiters.add(wake);
    });
    return this.owners.get(stream);
  }

  /** The worker a new task of `kind` goes to; `no_worker` when none may or can take it. */
  pickWorker(kind: string, task: NewTask): ProducerSession {
    return this.picker.pick(kind, task, this.sessions.values());
  }

  /**
   * Queues `command` for `session` and resolves with the producer's acknowledgement (through
   * `onAck`). Refusals come back as their typed errors; no acknowledgement within
   * `commandTimeoutMs` is `timeout`, and a command that never left the gateway is then withdrawn.
   */
  deliver<R = unknown>(
    session: ProducerSession,
    command: CommandDelivery,
    options: DeliverOptions<R> = {},
  ): Promise<R> {
    if (this.closed) return Promise.reject(new AgentwireError('shutting_down'));
    const timeoutMs = this.deps.options.commandTimeoutMs;
    return new Promise<R>((resolve, reject) => {
      let waiting = true;
      const fail = (error: AgentwireError) => {
        options.onFail?.();
        if (waiting) reject(error);
        waiting = false;
      };
      const timer = setTimeout(() => {
        const withdrawn = session.queue.withdraw(delivery.id);
        const what = `${command.type} for ${command.stream}`;
        const error = withdrawn
          ? new AgentwireError(
              'timeout',
              `The producer ${session.id} was not connected for ${timeoutMs} ms; the ${what} was not delivered.`,
              { delivered: false },
            )
          : new AgentwireError(
              'timeout',
              `The producer ${session.id} did not acknowledge the ${what} within ${timeoutMs} ms.`,
              {
                delivered: true,
              },
            );
        if (withdrawn) fail(error);
        else if (waiting) {
          // Still queued: a late acknowledgement will record the effect, but the sender is told now.
          waiting = false;
          reject(error);
        }
      }, timeoutMs);
      timer.unref();
      const delivery = session.queue.add(command, (outcome) => {
        clearTimeout(timer);
        if (!outcome.ok) {
          fail(outcome.error);
          return;
        }
        const after = options.onAck ? options.onAck(outcome.result) : Promise.resolve(outcome.result as R);
        const recorded = after.catch(() => undefined);
        session.recording.add(recorded);
        void recorded.finally(() => session.recording.delete(recorded));
        after.then(
          (value) => {
            if (waiting) resolve(value);
            waiting = false;
          },
          (err: unknown) => {
            if (!waiting)
              this.deps.logger.error({ err, stream: command.stream }, 'recording a command effect failed');
            if (waiting) reject(err);
            waiting = false;
          },
        );
      });
      if (session.link) session.queue.flush(session.link);
    });
  }

  // ---- liveness ---------------------------------------------------------------------------------

  /** Gives up on producers silent for longer than `orphanAfterMs`. */
  sweep(now: number): void {
    for (const session of [...this.sessions.values()]) {
      const silentMs = now - session.lastSeen;
      if (silentMs > this.deps.options.orphanAfterMs) {
        this.gone(session, `stopped responding (no heartbeat for ${(silentMs / 1_000).toFixed(1)} s)`);
      }
    }
  }

  private gone(session: ProducerSession, why: string): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    this.binding?.release(session.id);
    const link = session.link;
    session.link = undefined;
    link?.close(PRODUCER_CLOSE_SILENT, 'gone');
    session.queue.failAll(noProducerError(`The producer ${session.id} that owned the task ${why}.`));
    const streams = [...session.streams];
    session.streams.clear();
    for (const stream of streams) {
      if (this.owners.get(stream) === session) {
        this.owners.delete(stream);
        this.ownersChanged(stream, undefined);
      }
      const marking = this.orphan(stream, session, why).finally(() => this.orphaning.delete(marking));
      this.orphaning.add(marking);
    }
    this.deps.logger.info({ producer: session.id, tasks: streams.length, why }, 'producer gone');
  }

  private async orphan(stream: string, session: ProducerSession, why: string): Promise<void> {
    try {
      // A cancel acknowledged just before the producer left is being recorded: that ends the task.
      await Promise.allSettled([...session.recording]);
      const { state } = await this.deps.snapshots.get(stream);
      if (!state || isTerminal(state) || this.owners.has(stream)) return;
      const who = session.name === undefined ? session.id : `${session.name} (${session.id})`;
      await this.deps.publish(stream, [
        {
          type: 'task:failed',
          data: {
            error: {
              message: `The producer running this task, ${who}, ${why}; nothing is working on it any more.`,
              code: 'producer_gone',
            },
            reason: 'orphaned',
          },
        },
      ]);
    } catch (err) {
      this.deps.logger.error({ err, stream }, 'could not mark an orphaned task');
    }
  }

  // ---- bookkeeping ------------------------------------------------------------------------------

  /** A producer restated the tasks it owns: claim those, release the ones it no longer lists. */
  private restate(session: ProducerSession, streams: readonly string[]): void {
    const listed = new Set(streams);
    for (const stream of [...session.streams]) {
      if (!listed.has(stream) && !session.queue.hasStart(stream)) this.release(stream);
    }
    this.claim(session, streams);
  }

  /** Pre-assigns a task being started to its worker, so commands for it wait for nobody's claim. */
  assign(session: ProducerSession, stream: string): void {
    this.claim(session, [stream]);
  }

  release(stream: string): void {
    const owner = this.owners.get(stream);
    if (!owner) return;
    this.owners.delete(stream);
    owner.streams.delete(stream);
    this.ownersChanged(stream, undefined);
  }

  private ownersChanged(stream: string, owner: ProducerSession | undefined): void {
    for (const listener of this.ownerListeners) {
      try {
        listener(stream, owner);
      } catch (err) {
        this.deps.logger.error({ err, stream }, 'an ownership listener failed');
      }
    }
  }

  private onAppend(stream: string, events: AnyEnvelope[]): void {
    for (const e of events) {
      const ends = ENDS_TASK.has(e.type) || (e.type === 'task:cancelled' && e.data.agentId === undefined);
      if (ends) this.release(stream);
    }
  }

  stats(): { producers: number; connectedProducers: number; ownedTasks: number; queuedCommands: number } {
    const all = [...this.sessions.values()];
    return {
      producers: all.length,
      connectedProducers: all.filter((s) => s.connected).length,
      ownedTasks: this.owners.size,
      queuedCommands: all.reduce((n, s) => n + s.queue.size, 0),
    };
  }

  /** Connected workers, their load and grants, for other gateway nodes choosing where a task starts. */
  workers(): WorkerInfo[] {
    const out: WorkerInfo[] = [];
    for (const s of this.sessions.values()) {
      if (!s.connected || s.kinds.length === 0) continue;
      out.push({
        producerId: s.id,
        kinds: s.kinds,
        tasks: s.load,
        grant: s.grant,
        ...(s.capacity !== undefined && { capacity: s.capacity }),
      });
    }
    return out;
  }

  list(): Record<string, unknown>[] {
    return [...this.sessions.values()].map((s) => s.describe());
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.unlisten();
    for (const waiters of this.ownerWaiters.values()) for (const wake of [...waiters]) wake();
    for (const session of this.sessions.values()) {
      session.queue.failAll(new AgentwireError('shutting_down'));
      session.link?.close(1012, 'shutting_down');
      session.link = undefined;
    }
    this.sessions.clear();
    this.owners.clear();
    await Promise.allSettled([...this.orphaning]);
  }
}
