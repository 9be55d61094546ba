import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { messageOf } from '../error-text.js';
import type { CheckpointerReply, IntegrityReply } from './sqlite-checkpointer-thread.js';

/** A damaged database, as the integrity check reports it: SQLite's code and its first findings. */
export class IntegrityProblem extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'IntegrityProblem';
  }
}

/**
 * Checkpoints the writer's WAL from a worker thread. The worker copies the bulk; the writer then
 * checkpoints the few frames committed while it ran, which completes the backfill, so SQLite
 * starts the WAL over at the next commit instead of growing it without end under steady load.
 */
export class Checkpointer {
  /** Set by the writer after each commit; a round runs only when something was committed. */
  dirty = false;
  private readonly worker: Worker;
  private readonly timer: NodeJS.Timeout;
  private running = false;
  private exited = false;
  private closing: Promise<void> | undefined;
  private rounds = 0;
  private started = 0;
  private lastError: string | undefined;
  private onIntegrity: ((problem: IntegrityProblem) => void) | undefined;

  constructor(
    private readonly db: Database.Database,
    path: string,
    intervalMs: number,
    busyTimeoutMs: number,
  ) {
    this.worker = new Worker(new URL('./sqlite-checkpointer-thread.js', import.meta.url), {
      workerData: { path, busyTimeoutMs },
    });
    // A failed worker leaves the writer's own autocheckpoint (the WAL bound) in charge.
    this.worker.on('error', (err) => (this.lastError = err.message));
    this.worker.on('message', (reply: CheckpointerReply | IntegrityReply) => {
      if ('integrity' in reply) this.integrityChecked(reply);
      else this.finish(reply);
    });
    this.worker.on('exit', () => (this.exited = true));
    this.worker.unref();
    this.timer = setInterval(() => this.start(), intervalMs);
    this.timer.unref();
  }

  /** Checks the whole file once on the worker's thread; `found` hears of damage, if any. */
  checkIntegrity(found: (problem: IntegrityProblem) => void): void {
    this.onIntegrity = found;
    this.worker.postMessage('integrity');
  }

  stats(): { rounds: number; started: number; lastError: string | undefined } {
    return { rounds: this.rounds, started: this.started, lastError: this.lastError };
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    this.closing ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      // Unreferenced so an idle checkpointer never holds the process open; closing must wait for it.
      this.worker.ref();
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('close');
    });
    return this.closing;
  }

  private integrityChecked(reply: IntegrityReply): void {
    if (reply.problems.length === 0 || this.closing) return;
    this.onIntegrity?.(new IntegrityProblem(reply.code ?? 'SQLITE_CORRUPT', reply.problems.join('; ')));
  }

  private start(): void {
    if (this.running || !this.dirty || this.closing || this.exited) return;
    this.running = true;
    this.dirty = false;
    this.started++;
    this.worker.postMessage('checkpoint');
  }

  private finish(reply: CheckpointerReply): void {
    this.running = false;
    if (this.closing) return;
    if (!reply.ok) {
      this.lastError = reply.message;
      return;
    }
    // Behind (its syncs waited on the disk while the writer went on, or a busy core starved it):
    // copying the rest here would stall every append for as long. Go on at once instead of at the
    // next tick, or the WAL grows to SQLite's own bound and the writer checkpoints it inline.
    if (!reply.caughtUp) {
      // A reader holding old frames is waited out at the timer's pace, not in a loop.
      this.dirty = true;
      if (!reply.heldBack) setImmediate(() => this.start()).unref();
      return;
    }
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
      this.rounds++;
    } catch (err) {
      this.lastError = messageOf(err);
    }
  }
}
