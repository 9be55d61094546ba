import type { TaskListQuery, TaskSummary, TasksOp } from '@agentwire/protocol';
import type { Logger } from '../logger.js';
import type { TaskIndex } from './task-index.js';

/** The connection a watch sends to. */
export interface TaskWatchTarget {
  send(op: TasksOp): void;
  /** Bytes not yet written; a watch whose connection is behind skips ticks until it drains. */
  readonly bufferedBytes: number;
  /** Whether the connection's principal may read this row (docs/security.md); asked on every tick. */
  visible?: (row: TaskSummary) => boolean;
  /** The watch could not start (the index failed to build). */
  failed(err: unknown, ref: string | undefined): void;
}

export interface TaskWatchRequest {
  query: TaskListQuery;
  offset: number;
  limit: number;
  ref?: string;
}

export interface TaskWatchesOptions {
  /** Least time between two frames of one watch, in ms: changes within it go out together. */
  intervalMs: number;
  /** A connection with more than this many bytes unsent gets no frame until it drains. */
  maxBufferedBytes: number;
}

/** One connection's window on the task list. */
export class TaskWatch {
  /** What the client holds: the rows of the last frame, by task id. */
  sent = new Map<string, TaskSummary>();
  order: string[] = [];
  total = -1;
  /** The index version the last frame reflects; -1 until the first frame. */
  version = -1;
  /** Bumped by every `watch_tasks`, so a frame computed for an older request is dropped. */
  generation = 0;
  closed = false;

  constructor(
    readonly target: TaskWatchTarget,
    public request: TaskWatchRequest,
  ) {}
}

/**
 * Live windows on the task list, one per watching connection. Every `intervalMs` each watch whose
 * rows may have changed is recomputed from the index and, if its window differs from what the
 * client holds, sent the difference: the window's order and only the rows that are new or changed.
 * However many events commit, a watch gets at most one frame per interval, with at most `limit`
 * rows: a browser showing 10,000 tasks receives the 50 it shows.
 */
export class TaskWatches {
  private readonly watches = new Set<TaskWatch>();
  private timer: NodeJS.Timeout | undefined;
  private readonly unlisten: () => void;
  private dirty = false;

  constructor(
    private readonly index: TaskIndex,
    private readonly options: TaskWatchesOptions,
    private readonly logger: Logger,
  ) {
    this.unlisten = index.onChange(() => {
      this.dirty = true;
    });
  }

  get count(): number {
    return this.watches.size;
  }

  /** Starts a watch, or re-aims `existing` (a scroll, a new filter): its next frame is a full window. */
  watch(target: TaskWatchTarget, request: TaskWatchRequest, existing?: TaskWatch): TaskWatch {
    const w = existing && !existing.closed ? existing : new TaskWatch(target, request);
    w.request = request;
    w.generation++;
    w.sent = new Map();
    w.order = [];
    w.total = -1;
    w.version = -1;
    this.watches.add(w);
    const generation = w.generation;
    this.index.ready().then(
      () => {
        if (!w.closed && w.generation === generation) this.refresh(w, true);
        this.arm();
      },
      (err: unknown) => {
        if (w.closed || w.generation !== generation) return;
        this.unwatch(w);
        target.failed(err, request.ref);
      },
    );
    return w;
  }

  unwatch(w: TaskWatch): void {
    w.closed = true;
    this.watches.delete(w);
    if (this.watches.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    for (const w of this.watches) w.closed = true;
    this.watches.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unlisten();
  }

  private arm(): void {
    if (this.timer || this.watches.size === 0) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    if (!this.dirty) return;
    this.dirty = false;
    for (const w of this.watches) {
      // Not started yet (the index is building) or already current.
      if (w.version < 0 || w.version === this.index.version) continue;
      if (w.target.bufferedBytes > this.options.maxBufferedBytes) {
        // Behind: this watch's changes wait for a later tick, coalesced with what comes next.
        this.dirty = true;
        continue;
      }
      try {
        this.refresh(w, false);
      } catch (err) {
        this.logger.error({ err }, 'task list watch failed');
      }
    }
  }

  /** Computes the watch's window and sends what the client lacks; `full` answers a `watch_tasks`. */
  private refresh(w: TaskWatch, full: boolean): void {
    const { query, offset, limit, ref } = w.request;
    w.version = this.index.version;
    const window = this.index.query(query, offset, limit, w.target.visible);
    const order = window.rows.map((r) => r.taskId);
    const rows = window.rows.filter((r) => w.sent.get(r.taskId) !== r);
    const sameOrder = order.length === w.order.length && order.every((id, i) => id === w.order[i]);
    if (!full && rows.length === 0 && sameOrder && window.total === w.total) return;
    w.sent = new Map(window.rows.map((r) => [r.taskId, r]));
    w.order = order;
    w.total = window.total;
    w.target.send({
      op: 'tasks',
      total: window.total,
      offset,
      order,
      rows,
      ...(full && ref !== undefined && { ref }),
    });
  }
}
