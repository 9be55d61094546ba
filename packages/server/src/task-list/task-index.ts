import {
  compareTasks,
  matchesTaskQuery,
  reduceTask,
  summarize,
  TASK_STREAM_PREFIX,
  taskIdOf,
  type AnyEnvelope,
  type TaskListQuery,
  type TaskState,
  type TaskSummary,
} from '@agentwire/protocol';
import type { LogEngine } from '../log/engine.js';
import type { Logger } from '../logger.js';
import type { SnapshotService } from '../snapshots.js';
import { compactState } from './index-state.js';

export interface TaskIndexOptions {
  /** Most tasks kept; past it the oldest (by creation) leave the index. */
  maxTasks: number;
}

export interface TaskWindow {
  /** Tasks matching the query (and visible to the caller). */
  total: number;
  /** The matching rows from `offset`, at most `limit`, in list order. */
  rows: TaskSummary[];
}

interface Entry {
  state: TaskState;
  summary: TaskSummary;
}

/** States read from the log at once while the index is built. */
const BUILD_CONCURRENCY = 8;

/**
 * The task list, in memory on every gateway node: one summary per task, in list order (newest
 * task first), kept current from the log's commits (on a cluster every node hears every commit).
 * Built the first time something asks, from each task's checkpoint and retained events, so a
 * gateway nobody asks for a task list pays nothing per event. Each task keeps a state cut down to
 * what its summary needs (`compactState`), about a kilobyte.
 */
export class TaskIndex {
  private readonly entries = new Map<string, Entry>();
  /** Streams in list order. */
  private order: string[] = [];
  /** Commits heard while the index is being built, or while one task's state is read. */
  private waiting: Map<string, AnyEnvelope[]> | undefined;
  private readonly loading = new Map<string, AnyEnvelope[]>();
  private readonly listeners = new Set<() => void>();
  private built: Promise<void> | undefined;
  private unlisten: (() => void) | undefined;
  /** Bumped on every change to any row. */
  version = 0;
  closed = false;

  constructor(
    private readonly engine: LogEngine,
    private readonly snapshots: SnapshotService,
    private readonly logger: Logger,
    private readonly options: TaskIndexOptions,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Resolves once the index holds every task and follows the log. */
  ready(): Promise<void> {
    this.built ??= this.build().catch((err: unknown) => {
      this.built = undefined;
      throw err;
    });
    return this.built;
  }

  /** Called after rows changed (many changes may share one call). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(stream: string): TaskSummary | undefined {
    return this.entries.get(stream)?.summary;
  }

  /** The window `offset`..`offset + limit` of the rows matching `query` that `visible` lets through. */
  query(
    query: TaskListQuery,
    offset: number,
    limit: number,
    visible?: (row: TaskSummary) => boolean,
  ): TaskWindow {
    const q = query.search ? { ...query, search: query.search.toLowerCase() } : query;
    const rows: TaskSummary[] = [];
    let total = 0;
    for (const stream of this.order) {
      const row = this.entries.get(stream)!.summary;
      if (!matchesTaskQuery(row, q) || (visible && !visible(row))) continue;
      if (total >= offset && rows.length < limit) rows.push(row);
      total++;
    }
    return { total, rows };
  }

  /** Stops following the log; listeners hear once more, so waiting requests answer now. */
  close(): void {
    this.closed = true;
    this.unlisten?.();
    this.unlisten = undefined;
    this.changed();
    this.listeners.clear();
  }

  private async build(): Promise<void> {
    this.waiting = new Map();
    // Once built, the list follows every task, so it wants every task stream's events.
    this.unlisten ??= this.engine.onAppend((stream, events) => this.onCommit(stream, events), {
      wants: (stream) => taskIdOf(stream) !== undefined,
      skipped: () => {},
    });
    const streams = await this.engine.listStreams({
      prefix: TASK_STREAM_PREFIX,
      limit: this.options.maxTasks,
    });
    let next = 0;
    const worker = async () => {
      while (next < streams.length) {
        const { stream } = streams[next++]!;
        if (taskIdOf(stream) === undefined) continue;
        const state = await this.snapshots.stateThrough(stream, Number.MAX_SAFE_INTEGER);
        if (state) this.put(stream, state);
      }
    };
    try {
      await Promise.all(Array.from({ length: BUILD_CONCURRENCY }, worker));
    } finally {
      const waiting = this.waiting;
      this.waiting = undefined;
      for (const [stream, events] of waiting) this.onCommit(stream, events);
    }
    this.changed();
  }

  private onCommit(stream: string, events: readonly AnyEnvelope[]): void {
    if (taskIdOf(stream) === undefined || events.length === 0) return;
    const queue = this.waiting ?? (this.loading.has(stream) ? this.loading : undefined);
    if (queue) {
      const held = queue.get(stream);
      if (held) held.push(...events);
      else queue.set(stream, [...events]);
      return;
    }
    const entry = this.entries.get(stream);
    if (entry || events[0]!.seq === 1) {
      let state = entry?.state;
      for (const e of events) state = reduceTask(state, e);
      if (state && state !== entry?.state) {
        this.put(stream, state);
        this.changed();
      }
      return;
    }
    // A task this index does not hold (older than its oldest, or evicted): read it, then go on.
    this.loading.set(stream, [...events]);
    this.snapshots
      .stateThrough(stream, Number.MAX_SAFE_INTEGER)
      .then((state) => {
        const held = this.loading.get(stream) ?? [];
        this.loading.delete(stream);
        // The reducer skips the held events the read already folded.
        for (const e of held) state = reduceTask(state, e);
        if (state) {
          this.put(stream, state);
          this.changed();
        }
      })
      .catch((err: unknown) => {
        this.loading.delete(stream);
        this.logger.warn({ err, stream }, 'task list: reading a task failed');
      });
  }

  private put(stream: string, state: TaskState): void {
    const compact = compactState(state);
    const known = this.entries.has(stream);
    const summary = summarize(compact);
    this.entries.set(stream, { state: compact, summary });
    if (known) return;
    // New rows mostly belong at the top; find the place by binary search.
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareTasks(this.entries.get(this.order[mid]!)!.summary, summary) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, stream);
    while (this.order.length > this.options.maxTasks) {
      const oldest = this.order.pop()!;
      this.entries.delete(oldest);
    }
  }

  private changed(): void {
    this.version++;
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, 'task list listener failed');
      }
    }
  }
}
