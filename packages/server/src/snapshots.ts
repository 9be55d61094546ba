import { reduceTask, taskIdOf, type AnyEnvelope, type TaskState } from '@agentwire/protocol';
import type { LogEngine } from './log/engine.js';

export interface Snapshot {
  /** The seq the state includes events up to. */
  seq: number;
  epoch: string;
  state: TaskState | null;
}

interface Loading {
  pending: AnyEnvelope[];
  promise: Promise<Snapshot>;
  /** Events went by unseen while loading (`forget`): what was read may miss them, so read again. */
  stale?: boolean;
}

const READ_CHUNK = 1000;

/**
 * Reduced task state for late joiners, kept current as events commit. A cold stream is folded from
 * its checkpoint (written at retention time) plus the retained events after it, so the result equals
 * the reducer over the full history even after old events were trimmed.
 */
export class SnapshotService {
  private readonly cache = new Map<string, TaskState>();
  private readonly loading = new Map<string, Loading>();

  constructor(
    private readonly engine: LogEngine,
    private readonly maxCached = 2000,
  ) {}

  /** Called for every committed batch, in seq order. */
  onAppend(stream: string, events: AnyEnvelope[]): void {
    const loading = this.loading.get(stream);
    if (loading) {
      loading.pending.push(...events);
      return;
    }
    let state = this.cache.get(stream);
    if (!state) return;
    for (const e of events) state = reduceTask(state, e);
    // Re-insert to keep the Map in least-recently-updated order for eviction.
    this.cache.delete(stream);
    this.cache.set(stream, state);
  }

  async get(stream: string): Promise<Snapshot> {
    if (taskIdOf(stream) === undefined) {
      const head = await this.engine.head(stream);
      return { seq: head.head, epoch: head.epoch, state: null };
    }
    const cached = this.cache.get(stream);
    if (cached) return { seq: cached.seq, epoch: cached.epoch, state: cached };
    const existing = this.loading.get(stream);
    if (existing) return existing.promise;
    const entry: Loading = { pending: [], promise: Promise.resolve(undefined as never) };
    entry.promise = this.load(stream, entry).finally(() => this.loading.delete(stream));
    this.loading.set(stream, entry);
    return entry.promise;
  }

  /** Folds the state at exactly `throughSeq`, for retention checkpoints. */
  async stateThrough(stream: string, throughSeq: number): Promise<TaskState | undefined> {
    const checkpoint = await this.engine.getCheckpoint(stream);
    let state = checkpoint?.state as TaskState | undefined;
    let after = checkpoint?.seq ?? 0;
    while (after < throughSeq) {
      const limit = Math.min(READ_CHUNK, throughSeq - after);
      const chunk = await this.engine.read(stream, after, limit);
      if (chunk.events.length === 0) break;
      for (const e of chunk.events) state = reduceTask(state, e);
      after = chunk.events[chunk.events.length - 1]!.seq;
      // A short chunk ends at the head: no need to ask again for nothing.
      if (chunk.events.length < limit) break;
    }
    return state;
  }

  private async load(stream: string, entry: Loading): Promise<Snapshot> {
    for (;;) {
      entry.stale = false;
      entry.pending = [];
      const snapshot = await this.read(stream, entry);
      if (!entry.stale) return snapshot;
    }
  }

  private async read(stream: string, entry: Loading): Promise<Snapshot> {
    const checkpoint = await this.engine.getCheckpoint(stream);
    let state = checkpoint?.state as TaskState | undefined;
    let after = checkpoint?.seq ?? 0;
    let epoch: string;
    for (;;) {
      const chunk = await this.engine.read(stream, after, READ_CHUNK);
      epoch = chunk.epoch;
      for (const e of chunk.events) state = reduceTask(state, e);
      if (chunk.events.length > 0) after = chunk.events[chunk.events.length - 1]!.seq;
      if (chunk.events.length < READ_CHUNK) break;
    }
    // Events committed while we were reading arrived through onAppend; the reducer skips any we already read.
    for (const e of entry.pending) state = reduceTask(state, e);
    if (entry.stale) return { seq: after, epoch, state: null };
    if (!state) return { seq: after, epoch, state: null };
    this.cache.set(stream, state);
    if (this.cache.size > this.maxCached) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return { seq: state.seq, epoch: state.epoch, state };
  }

  /** Drops what is kept of the stream: events of it went by unseen (see `AppendInterest`). */
  forget(stream: string): void {
    this.cache.delete(stream);
    const loading = this.loading.get(stream);
    if (loading) loading.stale = true;
  }
}
