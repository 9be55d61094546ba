import { createHash } from 'node:crypto';
import { isStreamName, projectStream, taskIdOf, type AnyEnvelope } from '@agentwire/protocol';
import { OWNER_UNKNOWN, projectSetBy, type TaskProjects } from '../auth/task-projects.js';
import { encodeEnvelope } from '../hub/encode.js';
import type { AppendBatchResult, AppendInput, LogEngine } from '../log/engine.js';
import type { Logger } from '../logger.js';

export interface ProjectFeedStats {
  /** Task events copied into project streams (duplicates of a retried batch included). */
  copiedEvents: number;
  /** Task events of projects whose id cannot name a stream, so they have no project stream. */
  skippedEvents: number;
}

/**
 * Writes each task's events, as ingest commits them, into the stream `project:<projectId>` of the
 * project the task belongs to at that event (its latest `task:start`, as `TaskProjects` says), as
 * `project:event` envelopes. A project stream is then an ordinary stream: one seq per project,
 * resumable, retained and fanned out like any other, on every transport.
 *
 * Ingest awaits `copy` before it acknowledges the batch, so an acknowledged event is durable in
 * both streams. A copy's id is derived from its origin (stream, epoch, seq): copying a batch
 * again (a producer retrying a batch whose copy failed, a crash between the two commits) stores
 * nothing twice. One task's batches are copied one after another, in the order they committed.
 */
export class ProjectFeed {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly counters: ProjectFeedStats = { copiedEvents: 0, skippedEvents: 0 };

  constructor(
    private readonly engine: LogEngine,
    private readonly taskProjects: TaskProjects,
    private readonly logger: Logger,
  ) {}

  stats(): ProjectFeedStats {
    return { ...this.counters };
  }

  /** Copies a committed task batch into its project stream(s); resolves once they are durable. */
  copy(stream: string, batch: AppendBatchResult): Promise<void> {
    if (taskIdOf(stream) === undefined) return Promise.resolve();
    const retried = batch.results.some((r) => r.duplicate);
    if (batch.appended.length === 0 && !retried) return Promise.resolve();
    if (!retried && !this.chains.has(stream) && this.copiesNothing(stream, batch.appended)) return DONE;
    const previous = this.chains.get(stream) ?? Promise.resolve();
    const run = previous.then(() => this.copyNow(stream, batch, retried));
    const settled = run.catch(() => {});
    this.chains.set(stream, settled);
    void settled.then(() => {
      if (this.chains.get(stream) === settled) this.chains.delete(stream);
    });
    return run;
  }

  /**
   * True when no event of a fresh batch goes to a project stream, known without reading the log:
   * the task belongs to no project before the batch and no event of it moves the task. Most tasks
   * have no project, and their batches are then answered without a copy to wait for.
   */
  private copiesNothing(stream: string, events: readonly AnyEnvelope[]): boolean {
    const owner = this.taskProjects.ownerAtIfKnown(stream, events[0]!.seq - 1);
    if (owner === OWNER_UNKNOWN || typeof owner === 'string') return false;
    for (const e of events) if (projectSetBy(e) !== undefined) return false;
    return true;
  }

  private async copyNow(stream: string, batch: AppendBatchResult, retried: boolean): Promise<void> {
    const events = retried ? await this.withDuplicates(stream, batch) : batch.appended;
    if (events.length === 0) return;
    let owner = await this.taskProjects.ownerAt(stream, events[0]!.seq - 1);
    const runs = new Map<string, AnyEnvelope[]>();
    let expected = events[0]!.seq;
    for (const e of events) {
      // A hole (a retried batch mixing old and new events): the owner there is asked again.
      if (e.seq !== expected) owner = await this.taskProjects.ownerAt(stream, e.seq - 1);
      expected = e.seq + 1;
      if (e.type === 'task:start') {
        const projectId = (e.data as { projectId?: unknown }).projectId;
        owner = typeof projectId === 'string' ? projectId : null;
      }
      if (typeof owner !== 'string') continue;
      let run = runs.get(owner);
      if (!run) runs.set(owner, (run = []));
      run.push(e);
    }
    const now = Date.now();
    const appends: Promise<unknown>[] = [];
    for (const [projectId, run] of runs) {
      const target = projectStream(projectId);
      if (!isStreamName(target)) {
        this.counters.skippedEvents += run.length;
        this.logger.debug({ projectId }, 'project id cannot name a stream; no project stream');
        continue;
      }
      this.counters.copiedEvents += run.length;
      appends.push(
        this.engine.append(
          target,
          run.map((e) => copyOf(e, now)),
        ),
      );
    }
    await Promise.all(appends);
  }

  /** The batch's events, the ones it repeated included (read back from the log), in seq order. */
  private async withDuplicates(stream: string, batch: AppendBatchResult): Promise<AnyEnvelope[]> {
    const dups = batch.results.filter((r) => r.duplicate).map((r) => r.seq);
    const low = Math.min(...dups);
    const high = Math.max(...dups);
    const wanted = new Set(dups);
    const found = new Map<number, AnyEnvelope>();
    for (let after = low - 1; after < high;) {
      const chunk = await this.engine.read(stream, after, Math.min(1000, high - after));
      if (chunk.events.length === 0) break;
      for (const e of chunk.events) if (wanted.has(e.seq)) found.set(e.seq, e);
      after = chunk.events[chunk.events.length - 1]!.seq;
    }
    for (const e of batch.appended) found.set(e.seq, e);
    return [...found.values()].sort((a, b) => a.seq - b.seq);
  }
}

/**
 * The project stream's copy of a task event. Its data is the task envelope, already encoded by
 * the hub's cache (so the log stores that text as it is); the envelope objects the log hands to
 * listeners are never mutated, so sharing the nested `data` is safe.
 */
function copyOf(e: AnyEnvelope, now: number): AppendInput {
  return {
    id: copyId(e),
    type: 'project:event',
    time: now,
    data: {
      stream: e.stream,
      seq: e.seq,
      epoch: e.epoch,
      id: e.id,
      type: e.type,
      time: e.time,
      data: e.data,
    },
    json: encodeEnvelope(e),
  };
}

const DONE = Promise.resolve();

/** Origin prefixes of recently copied streams: one hash per task, not one per event. */
const origins = new Map<string, string>();
const MAX_ORIGINS = 10_000;

/** The same id for the same origin event, whoever copies it and however often. */
function copyId(e: AnyEnvelope): string {
  const key = `${e.stream}\n${e.epoch}`;
  let origin = origins.get(key);
  if (origin === undefined) {
    origin = createHash('sha256').update(key).digest('base64url').slice(0, 22);
    if (origins.size >= MAX_ORIGINS) origins.clear();
    origins.set(key, origin);
  }
  return `${origin}.${e.seq}`;
}
