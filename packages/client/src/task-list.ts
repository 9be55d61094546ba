import {
  AgentwireError,
  assertSchema,
  MAX_TASK_WINDOW,
  TaskListQuerySchema,
  type ClientOp,
  type TaskListQuery,
  type TaskSummary,
  type TasksOp,
} from '@agentwire/protocol';
import { Emitter, type Listener } from './emitter.js';

/** Which rows of the task list to follow: a query, and a window of it. */
export interface TaskListOptions {
  /** Narrows the list on the gateway: `status`, `project`, `search` (title, ids, kind, stage). */
  query?: TaskListQuery;
  /** Index of the first row of the window in the filtered list (newest task first). Default 0. */
  offset?: number;
  /** Rows in the window, at most 1000. Default 100. */
  limit?: number;
}

/** What the list shows now. A new object on every change, so UIs can compare by reference. */
export interface TaskListView {
  /** Tasks matching the query: the whole list's length, whatever the window. */
  total: number;
  /** Index of `rows[0]` in the whole list. */
  offset: number;
  /** The window's rows, in list order. */
  rows: readonly TaskSummary[];
  /** False until the gateway answered the current options. */
  loaded: boolean;
}

export interface TaskListEvents {
  change: [view: TaskListView];
  /** The gateway refused the query (a typed error); the list keeps what it showed. */
  error: [error: AgentwireError];
}

/**
 * A live window on the gateway's task list. The gateway filters and sorts; the client receives at
 * most `limit` rows, only the ones that changed, at most a few times a second, however many tasks
 * there are and however busy they are. Survives reconnects (the window is asked for again).
 */
export interface TaskList {
  readonly view: TaskListView;
  readonly options: Readonly<Required<TaskListOptions>>;
  on<K extends keyof TaskListEvents>(event: K, listener: Listener<TaskListEvents[K]>): () => void;
  /** Moves the window or changes the query; the next view answers these options. */
  update(options: TaskListOptions): void;
  close(): void;
}

export interface TaskListHost {
  /** Sends an op now if the connection is open; false otherwise (it is sent again on connect). */
  send(op: ClientOp): boolean;
  nextRef(): string;
  release(list: TaskListWatch): void;
}

const DEFAULT_LIMIT = 100;

export class TaskListWatch implements TaskList {
  readonly #host: TaskListHost;
  readonly #emitter = new Emitter<TaskListEvents>();
  readonly #rows = new Map<string, TaskSummary>();
  #options: Required<TaskListOptions>;
  #view: TaskListView = { total: 0, offset: 0, rows: [], loaded: false };
  /** The ref of the latest `watch_tasks`; frames before its answer belong to older options. */
  #ref: string | undefined;
  #answered = false;
  #closed = false;

  constructor(host: TaskListHost, options: TaskListOptions) {
    this.#host = host;
    this.#options = normalize(options, { query: {}, offset: 0, limit: DEFAULT_LIMIT });
  }

  get view(): TaskListView {
    return this.#view;
  }

  get options(): Readonly<Required<TaskListOptions>> {
    return this.#options;
  }

  on<K extends keyof TaskListEvents>(event: K, listener: Listener<TaskListEvents[K]>): () => void {
    return this.#emitter.on(event, listener);
  }

  update(options: TaskListOptions): void {
    if (this.#closed) return;
    this.#options = normalize(options, this.#options);
    this.#view = { ...this.#view, loaded: false };
    this.attach();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.send({ op: 'unwatch_tasks' });
    this.#host.release(this);
    this.#emitter.clear();
  }

  /** (Re)sends the watch: on connect, and when the options change. */
  attach(): void {
    if (this.#closed) return;
    const { query, offset, limit } = this.#options;
    this.#ref = this.#host.nextRef();
    this.#answered = false;
    this.#host.send({ op: 'watch_tasks', ref: this.#ref, query, offset, limit });
  }

  /** @internal A `tasks` frame. */
  handleFrame(op: TasksOp): void {
    if (this.#closed) return;
    if (op.ref !== undefined && op.ref === this.#ref) {
      this.#answered = true;
      this.#rows.clear();
    }
    // Frames for options the client has since replaced.
    if (!this.#answered) return;
    for (const row of op.rows) this.#rows.set(row.taskId, row);
    const rows: TaskSummary[] = [];
    const keep = new Set(op.order);
    for (const id of op.order) {
      const row = this.#rows.get(id);
      if (row) rows.push(row);
    }
    for (const id of this.#rows.keys()) if (!keep.has(id)) this.#rows.delete(id);
    this.#view = { total: op.total, offset: op.offset, rows, loaded: true };
    this.#emitter.emit('change', this.#view);
  }

  /** @internal An error answering this list's latest watch; true when it was. */
  handleError(error: AgentwireError, ref: string | undefined): boolean {
    if (ref === undefined || ref !== this.#ref) return false;
    this.#emitter.emit('error', error);
    return true;
  }
}

function normalize(options: TaskListOptions, base: Required<TaskListOptions>): Required<TaskListOptions> {
  const query = options.query ?? base.query;
  const offset = options.offset ?? base.offset;
  const limit = options.limit ?? base.limit;
  if (!Number.isInteger(offset) || offset < 0)
    throw new AgentwireError('invalid_message', 'offset must be a non-negative integer.');
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TASK_WINDOW)
    throw new AgentwireError('invalid_message', `limit must be an integer from 1 to ${MAX_TASK_WINDOW}.`);
  // Empty fields mean "no filter": the gateway's schema would refuse an empty project.
  const clean: TaskListQuery = {};
  if (query.status !== undefined) clean.status = query.status;
  if (query.project !== undefined && query.project !== '') clean.project = query.project;
  if (query.search !== undefined && query.search !== '') clean.search = query.search;
  assertSchema(TaskListQuerySchema, clean, 'invalid_message', 'Invalid task list query');
  return { query: clean, offset, limit };
}
