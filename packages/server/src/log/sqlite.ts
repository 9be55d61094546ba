import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AgentwireError, type AnyEnvelope } from '@agentwire/protocol';
import {
  appendedEnvelope,
  closedError,
  decodeTrace,
  encodeData,
  encodeInputs,
  encodeTrace,
  makeEnvelope,
  readBounds,
} from './codec.js';
import type {
  AppendBatchResult,
  AppendInput,
  AppendListener,
  AppendResult,
  Checkpoint,
  LogEngine,
  ReadResult,
  RetentionPolicy,
  StreamHead,
  StreamInfo,
  TrimPlan,
} from './engine.js';
import { messageOf } from '../error-text.js';
import { AppendNotifier } from './notifier.js';
import { Checkpointer } from './sqlite-checkpointer.js';
import { migrate } from './sqlite-schema.js';
import { StorageHealth } from './storage-health.js';

export interface SqliteEngineOptions {
  /** Database file; parent folders are created. `:memory:` gives a private, non-durable database. */
  path: string;
  /**
   * `normal` (default): with WAL, a commit survives the process being killed (SIGKILL, OOM, crash)
   * because it is in the OS page cache before the append resolves, but the last commits may be lost
   * on power failure or kernel panic. `full`: every commit is fsynced, surviving power loss, at the
   * cost of one fsync per group commit.
   */
  synchronous?: 'normal' | 'full';
  /** How long a commit waits for another connection's write lock before failing its batch. */
  busyTimeoutMs?: number;
  /** A queue this large is committed at once instead of waiting for the end of the event-loop turn. */
  maxBatchEvents?: number;
  /**
   * How often, in ms, a background thread copies the WAL back into the database file (a
   * checkpoint) when anything was committed since the last one. Commits rewrite the same hot pages
   * (the tails of the event and id indexes) again and again; checkpointing a second's worth at once
   * copies each of them back once instead of many times, and off the writer's event loop. Default
   * 1000. 0: the writer checkpoints inline (SQLite's autocheckpoint), pausing appends meanwhile.
   */
  checkpointIntervalMs?: number;
  /**
   * WAL pages (4 KiB each) after which the writer checkpoints inline: the rule with
   * `checkpointIntervalMs: 0`, otherwise only a bound on the WAL should the background thread fall
   * behind. Default 10000 inline (about 40 MiB), 50000 as the bound.
   */
  walAutocheckpointPages?: number;
  /** Where errors thrown by append listeners go; defaults to a process warning. */
  onListenerError?: (err: unknown) => void;
  /**
   * With background checkpoints: check the whole file once after opening (`PRAGMA quick_check`, on
   * the checkpointer's thread), so a database damaged mid-file turns readiness off at start rather
   * than at the first request that reads the damaged page. Default true.
   */
  integrityCheck?: boolean;
  /** While the storage fails, how often it is probed with a small write, in ms. Default 1000. */
  probeIntervalMs?: number;
}

export interface SqliteEngineStats {
  /** Group commits that succeeded. */
  transactions: number;
  /** Group commits that failed and rejected every append in them. */
  failedTransactions: number;
  /** Append calls committed. */
  appends: number;
  /** Events newly stored (duplicates excluded). */
  events: number;
}

interface PendingAppend {
  stream: string;
  inputs: AppendInput[];
  encoded: string[];
  resolve: (result: AppendBatchResult) => void;
  reject: (err: AgentwireError) => void;
}

interface StreamRow {
  sid: number;
  epoch: string;
  head: number;
  first: number;
}

interface StreamListRow extends StreamRow {
  name: string;
  created_at: number;
  updated_at: number;
}

interface EventRow {
  seq: number;
  id: string;
  type: string;
  time: number;
  data: string;
  trace: string | null;
}

const DEFAULT_MAX_BATCH_EVENTS = 5000;

/**
 * The embedded durable log: one SQLite database in WAL mode.
 *
 * Appends are group-committed: every append issued during one event-loop turn is queued and
 * written in a single transaction (one WAL sync for the lot), then each append resolves and the
 * listeners hear of it, in call order. Reads see only committed data, so anything a listener or
 * a resolved append reveals can be read back. A failed transaction rejects every append in it with
 * `internal` and rolls back, so no seq is consumed and the next commit continues from the same head.
 */
export class SqliteEngine implements LogEngine {
  readonly kind = 'sqlite';
  readonly path: string;
  /** The database epoch: created with the database, given to each new stream. */
  readonly epoch: string;
  /** Whether the database can be written now; every storage failure is reported here. */
  readonly health: StorageHealth;
  private readonly db: Database.Database;
  private readonly notifier: AppendNotifier;
  private readonly maxBatchEvents: number;
  private readonly checkpointer: Checkpointer | undefined;
  private queue: PendingAppend[] = [];
  private queuedEvents = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private closed = false;
  private readonly counters: SqliteEngineStats = {
    transactions: 0,
    failedTransactions: 0,
    appends: 0,
    events: 0,
  };

  private readonly sql: {
    selectStream: Database.Statement<[string], StreamRow>;
    insertStream: Database.Statement<[string, string, number, number, number, number]>;
    updateStream: Database.Statement<[number, number, number]>;
    insertEvent: Database.Statement<[number, number, string, string, number, string, string | null]>;
    selectSeqById: Database.Statement<[number, string], number>;
    selectEvents: Database.Statement<[number, number, number], EventRow>;
    listStreams: Database.Statement<[string, string, number], StreamListRow>;
    nonEmptyStreams: Database.Statement<[], { sid: number; name: string; head: number; first: number }>;
    firstYoung: Database.Statement<[number, number, number], number>;
    deleteThrough: Database.Statement<[number, number]>;
    setFirst: Database.Statement<[number, number]>;
    putCheckpoint: Database.Statement<[string, number, string]>;
    getCheckpoint: Database.Statement<[string], { seq: number; state: string }>;
    probe: Database.Statement<[string]>;
  };
  private readonly commitBatch: (batch: PendingAppend[]) => AppendBatchResult[];
  private readonly trimStream: (stream: string, throughSeq: number) => number;

  constructor(options: SqliteEngineOptions) {
    this.path = options.path;
    this.maxBatchEvents = options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS;
    this.notifier = new AppendNotifier(options.onListenerError);
    this.health = new StorageHealth(() => this.probe(), options.probeIntervalMs);
    let db: Database.Database | undefined;
    const interval = positive('checkpointIntervalMs', options.checkpointIntervalMs ?? 1000, 1000, true);
    try {
      if (options.path !== ':memory:' && options.path !== '') createPrivately(options.path);
      db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      const background = options.path !== ':memory:' && options.path !== '' && interval > 0;
      const pages = positive(
        'walAutocheckpointPages',
        options.walAutocheckpointPages,
        background ? 50_000 : 10_000,
      );
      db.pragma(`wal_autocheckpoint = ${pages}`);
      if (background) {
        this.checkpointer = new Checkpointer(db, options.path, interval, options.busyTimeoutMs ?? 5000);
      }
      this.epoch = migrate(db);
      if (this.checkpointer && options.integrityCheck !== false) {
        this.checkpointer.checkIntegrity((problem) =>
          this.health.fail(problem, `The integrity check of ${options.path} failed`),
        );
      }
    } catch (err) {
      db?.close();
      if (err instanceof AgentwireError) throw err;
      throw new AgentwireError(
        'internal',
        `Cannot open the log database at ${options.path}: ${messageOf(err)}`,
      );
    }
    this.db = db;
    this.sql = {
      selectStream: db.prepare('SELECT sid, epoch, head, first FROM streams WHERE name = ?'),
      insertStream: db.prepare(
        'INSERT INTO streams (name, epoch, head, first, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      updateStream: db.prepare('UPDATE streams SET head = ?, updated_at = ? WHERE sid = ?'),
      // DO NOTHING only swallows uniqueness conflicts: a hit means the id is already in the stream.
      insertEvent: db.prepare(
        `INSERT INTO events (sid, seq, id, type, time, data, trace) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      selectSeqById: db
        .prepare<[number, string], number>('SELECT seq FROM events WHERE sid = ? AND id = ?')
        .pluck(),
      selectEvents: db.prepare(
        'SELECT seq, id, type, time, data, trace FROM events WHERE sid = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      listStreams: db.prepare(
        `SELECT name, epoch, head, first, created_at, updated_at FROM streams
         WHERE substr(name, 1, length(?)) = ? ORDER BY updated_at DESC, name DESC LIMIT ?`,
      ),
      nonEmptyStreams: db.prepare('SELECT sid, name, head, first FROM streams WHERE head >= first'),
      firstYoung: db
        .prepare<[number, number, number], number>(
          'SELECT seq FROM events WHERE sid = ? AND seq >= ? AND time >= ? ORDER BY seq LIMIT 1',
        )
        .pluck(),
      deleteThrough: db.prepare('DELETE FROM events WHERE sid = ? AND seq <= ?'),
      setFirst: db.prepare('UPDATE streams SET first = ? WHERE sid = ?'),
      putCheckpoint: db.prepare(
        `INSERT INTO checkpoints (stream, seq, state) VALUES (?, ?, ?)
         ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, state = excluded.state`,
      ),
      getCheckpoint: db.prepare('SELECT seq, state FROM checkpoints WHERE stream = ?'),
      probe: db.prepare(
        `INSERT INTO meta (key, value) VALUES ('probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
    };

    const commit = db.transaction((batch: PendingAppend[]) => this.writeBatch(batch));
    // IMMEDIATE takes the write lock up front, so a busy database fails the batch before any work.
    this.commitBatch = (batch) => commit.immediate(batch);
    const trim = db.transaction((stream: string, throughSeq: number) => {
      const row = this.sql.selectStream.get(stream);
      if (!row) return 0;
      const through = Math.min(Math.floor(throughSeq), row.head);
      if (!(through >= row.first)) return 0;
      const { changes } = this.sql.deleteThrough.run(row.sid, through);
      this.sql.setFirst.run(through + 1, row.sid);
      return changes;
    });
    this.trimStream = (stream, throughSeq) => trim.immediate(stream, throughSeq);
  }

  append(stream: string, inputs: AppendInput[]): Promise<AppendBatchResult> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    let encoded: string[];
    try {
      encoded = encodeInputs(inputs);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ stream, inputs, encoded, resolve, reject });
      this.queuedEvents += inputs.length;
      if (this.queuedEvents >= this.maxBatchEvents) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  read(stream: string, afterSeq: number, limit: number): Promise<ReadResult> {
    return this.run(() => {
      const row = this.sql.selectStream.get(stream);
      const head = this.headOf(stream, row);
      const bounds = readBounds(afterSeq, limit);
      const events =
        !row || bounds.limit === 0 || bounds.after >= head.head
          ? []
          : this.sql.selectEvents
              .all(row.sid, bounds.after, bounds.limit)
              .map((r) =>
                makeEnvelope(stream, head.epoch, r.seq, r.id, r.type, r.time, r.data, decodeTrace(r.trace)),
              );
      return { ...head, events };
    });
  }

  head(stream: string): Promise<StreamHead> {
    return this.run(() => this.headOf(stream));
  }

  listStreams(options: { prefix?: string; limit: number }): Promise<StreamInfo[]> {
    return this.run(() => {
      const prefix = options.prefix ?? '';
      return this.sql.listStreams.all(prefix, prefix, readBounds(0, options.limit).limit).map((r) => ({
        stream: r.name,
        epoch: r.epoch,
        head: r.head,
        first: r.first,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }));
    });
  }

  onAppend(listener: AppendListener): () => void {
    return this.notifier.add(listener);
  }

  retentionPlan(policy: RetentionPolicy, now: number): Promise<TrimPlan[]> {
    return this.run(() => {
      const maxEvents = policy.maxEvents ?? 0;
      const maxAgeMs = policy.maxAgeMs ?? 0;
      const plans: TrimPlan[] = [];
      if (maxEvents <= 0 && maxAgeMs <= 0) return plans;
      for (const s of this.sql.nonEmptyStreams.iterate()) {
        let through = maxEvents > 0 ? s.head - maxEvents : 0;
        if (maxAgeMs > 0) {
          // Only a prefix can be dropped: stop at the first event young enough to keep. The scan
          // covers only events that are about to be trimmed, so its cost is paid once.
          const young = this.sql.firstYoung.get(s.sid, s.first, now - maxAgeMs);
          through = Math.max(through, young === undefined ? s.head : young - 1);
        }
        if (through >= s.first) plans.push({ stream: s.name, throughSeq: through });
      }
      return plans;
    });
  }

  trim(stream: string, throughSeq: number): Promise<number> {
    return this.run(() => this.trimStream(stream, throughSeq));
  }

  putCheckpoint(stream: string, checkpoint: Checkpoint): Promise<void> {
    return this.run(() => {
      this.sql.putCheckpoint.run(stream, checkpoint.seq, encodeData(checkpoint.state));
    });
  }

  getCheckpoint(stream: string): Promise<Checkpoint | undefined> {
    return this.run(() => {
      const row = this.sql.getCheckpoint.get(stream);
      return row && { seq: row.seq, state: JSON.parse(row.state) as unknown };
    });
  }

  /** Commits what is queued (those appends resolve), then closes the database. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    // Closed first: an append made by a listener during the last flush is refused, not stranded.
    this.closed = true;
    this.health.close();
    this.flush();
    const closeDb = (): void => {
      try {
        this.db.close();
      } catch (err) {
        throw new AgentwireError('internal', `Closing the log database failed: ${messageOf(err)}`);
      }
    };
    if (!this.checkpointer) {
      try {
        closeDb();
      } catch (err) {
        return Promise.reject(err);
      }
      return Promise.resolve();
    }
    // The checkpointer's connection closes first, so this last one checkpoints and removes the WAL.
    return this.checkpointer.close().then(closeDb);
  }

  stats(): SqliteEngineStats {
    return { ...this.counters };
  }

  /**
   * Background checkpoint rounds completed (the WAL copied through), rounds started, and the last
   * error, if any; undefined when checkpoints run inline.
   */
  checkpointStats(): { rounds: number; started: number; lastError: string | undefined } | undefined {
    return this.checkpointer?.stats();
  }

  private flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.queuedEvents = 0;
    let outcomes: AppendBatchResult[];
    try {
      outcomes = this.commitBatch(batch);
    } catch (err) {
      this.counters.failedTransactions++;
      const error = this.failure(err, `The log could not commit ${batch.length} appends`);
      // Through the notifier, so rejections keep their place after earlier commits' deliveries.
      for (const p of batch) this.notifier.publish(p.stream, [], () => p.reject(error));
      return;
    }
    this.counters.transactions++;
    this.counters.appends += batch.length;
    this.health.succeeded();
    if (this.checkpointer) this.checkpointer.dirty = true;
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (!outcome) return;
      this.counters.events += outcome.appended.length;
      this.notifier.publish(p.stream, outcome.appended, () => p.resolve(outcome));
    });
  }

  /** Runs inside the group-commit transaction; anything thrown rolls the whole batch back. */
  private writeBatch(batch: PendingAppend[]): AppendBatchResult[] {
    const now = Date.now();
    const touched = new Map<string, StreamRow & { dirty: boolean }>();
    const outcomes: AppendBatchResult[] = [];
    for (const p of batch) {
      let s = touched.get(p.stream);
      if (!s) {
        const row = this.sql.selectStream.get(p.stream);
        // sid 0: no row yet; it is written with the stream's first event, never for a lookup.
        s = row ? { ...row, dirty: false } : { sid: 0, epoch: this.epoch, head: 0, first: 1, dirty: false };
        touched.set(p.stream, s);
      }
      const results: AppendResult[] = [];
      const appended: AnyEnvelope[] = [];
      p.inputs.forEach((input, i) => {
        const json = p.encoded[i] ?? 'null';
        const seq = s.head + 1;
        if (s.sid === 0) {
          const created = this.sql.insertStream.run(p.stream, s.epoch, 0, 1, now, now);
          s.sid = Number(created.lastInsertRowid);
        }
        const { changes } = this.sql.insertEvent.run(
          s.sid,
          seq,
          input.id,
          input.type,
          input.time,
          json,
          encodeTrace(input.trace) ?? null,
        );
        if (changes === 1) {
          s.head = seq;
          s.dirty = true;
          results.push({ id: input.id, seq, duplicate: false });
          appended.push(appendedEnvelope(p.stream, s.epoch, seq, input, json));
          return;
        }
        const original = this.sql.selectSeqById.get(s.sid, input.id);
        if (original === undefined) {
          throw new AgentwireError(
            'internal',
            `Seq ${seq} of ${p.stream} is already taken: the stream head is behind its events.`,
          );
        }
        results.push({ id: input.id, seq: original, duplicate: true });
      });
      outcomes.push({ stream: p.stream, epoch: s.epoch, results, appended });
    }
    for (const s of touched.values()) if (s.dirty) this.sql.updateStream.run(s.head, now, s.sid);
    return outcomes;
  }

  private headOf(stream: string, row = this.sql.selectStream.get(stream)): StreamHead {
    // A stream nobody wrote to has no row: subscribing to any name must not grow the database.
    return row
      ? { stream, epoch: row.epoch, head: row.head, first: row.first }
      : { stream, epoch: this.epoch, head: 0, first: 1 };
  }

  private run<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(this.failure(err, 'Log database error'));
    }
  }

  /**
   * SQLite's own errors (a full disk, an I/O error, a damaged page, a read-only file) are storage
   * failures: reported to `health` and refused with `storage_unavailable`. Anything else is a bug.
   */
  private failure(err: unknown, context: string): AgentwireError {
    if (err instanceof AgentwireError) return err;
    if (isStorageError(err)) return this.health.fail(err, context);
    return new AgentwireError('internal', `${context}: ${messageOf(err)}`);
  }

  /** The health probe: a one-row write in its own transaction, as an append would make. */
  private probe(): void {
    if (this.closed) return;
    const write = this.db.transaction(() => this.sql.probe.run(String(Date.now())));
    write.immediate();
  }
}

/**
 * Every event ever published lives in this file, so it is created readable by its owner only, in
 * a folder created the same way; SQLite gives its `-wal` and `-shm` files the database's mode.
 * Existing files and folders keep theirs (the CLI warns about loose ones).
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * SQLite's codes for the storage itself failing (primary codes; extended ones such as
 * `SQLITE_IOERR_WRITE` share their prefix). Constraint, mismatch and SQL errors are bugs instead.
 */
const STORAGE_CODES =
  /^SQLITE_(FULL|IOERR|CORRUPT|NOTADB|READONLY|BUSY|LOCKED|CANTOPEN|PERM|NOMEM|PROTOCOL|NOLFS)(_|$)/;

function isStorageError(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && STORAGE_CODES.test(code);
}

function positive(name: string, value: number | undefined, fallback: number, zero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < (zero ? 0 : 1)) {
    throw new AgentwireError(
      'internal',
      `${name} must be a ${zero ? 'non-negative' : 'positive'} integer; got ${value}.`,
    );
  }
  return value;
}
