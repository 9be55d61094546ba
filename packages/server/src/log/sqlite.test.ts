import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { AgentwireError } from '@agentwire/protocol';
import type { AppendBatchResult, AppendInput, LogEngine } from './engine.js';
import { runEngineSuite } from '../testing/engine-suite.js';
import { letTimePass, waitUntil } from '../testing/wait.js';
import { SCHEMA_VERSION } from './sqlite-schema.js';
import { SqliteEngine } from './sqlite.js';

const root = mkdtempSync(join(tmpdir(), 'agentwire-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
const freshPath = (): string => join(root, `db-${++counter}`, 'log.sqlite');

/** A database as an older build left it: `sql` run under schema `version`. */
function writeOldDatabase(path: string, version: number, sql: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(sql);
  db.pragma(`user_version = ${version}`);
  db.close();
}

runEngineSuite({
  name: 'sqlite',
  create: () => new SqliteEngine({ path: freshPath() }),
  reopen: async (engine) => {
    const { path } = engine as SqliteEngine;
    await engine.close();
    return new SqliteEngine({ path });
  },
});

runEngineSuite({
  name: 'sqlite (synchronous=full)',
  // Also the inline checkpoints of SQLite's autocheckpoint, instead of the background thread.
  create: () => new SqliteEngine({ path: freshPath(), synchronous: 'full', checkpointIntervalMs: 0 }),
});

const ev = (id: string, data: unknown = { id }): AppendInput => ({ id, type: 'log:entry', time: 1, data });

async function using<T>(engine: LogEngine, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await engine.close();
  }
}

describe('sqlite engine specifics', () => {
  it('checkpoints in the background, so the WAL starts over instead of holding every commit', async () => {
    const path = freshPath();
    const engine = new SqliteEngine({ path, checkpointIntervalMs: 10 });
    await using(engine, async () => {
      const payload = 'x'.repeat(400);
      let walMax = 0;
      for (let round = 0; round < 30; round++) {
        await Promise.all(
          Array.from({ length: 500 }, (_, i) =>
            engine.append(`task:${i % 4}`, [ev(`r${round}-${i}`, { payload })]),
          ),
        );
        // A completed round before the next commits, however slowly the checkpointer's thread is
        // scheduled: the WAL can then start over.
        const before = engine.checkpointStats()?.rounds ?? 0;
        await waitUntil(() => (engine.checkpointStats()?.rounds ?? 0) > before, 'a checkpoint round');
        walMax = Math.max(walMax, statSync(`${path}-wal`).size);
      }
      const checkpoints = engine.checkpointStats();
      assert.equal(checkpoints?.lastError, undefined);
      assert.ok((checkpoints?.rounds ?? 0) >= 2, `rounds: ${checkpoints?.rounds}`);
      // 15,000 events of ~450 bytes: over 6 MB were committed; a WAL that never restarted holds them all.
      assert.ok(walMax < 3_000_000, `WAL grew to ${walMax} bytes`);
      const read = await engine.read('task:1', 0, 10_000);
      assert.equal(read.events.length, 3750);
      assert.deepEqual(
        read.events.map((e) => e.seq),
        Array.from({ length: 3750 }, (_, i) => i + 1),
      );
    });
    // Closing waits for the checkpointer's connection, so the last one removes the WAL.
    assert.equal(existsSync(`${path}-wal`), false);
    const reopened = new SqliteEngine({ path });
    await using(reopened, async () => assert.equal((await reopened.head('task:3')).head, 3750));
  });

  it('moves a version-1 database (events keyed by stream name) over intact', async () => {
    const path = freshPath();
    writeOldDatabase(
      path,
      1,
      `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE streams (name TEXT PRIMARY KEY, epoch TEXT NOT NULL, head INTEGER NOT NULL,
        first INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE INDEX streams_updated ON streams (updated_at, name);
      CREATE TABLE events (stream TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
        time INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (stream, seq)) WITHOUT ROWID;
      CREATE UNIQUE INDEX events_id ON events (stream, id);
      CREATE TABLE checkpoints (stream TEXT PRIMARY KEY, seq INTEGER NOT NULL, state TEXT NOT NULL);
      INSERT INTO meta VALUES ('epoch', 'epoch-v1');
      INSERT INTO streams VALUES ('task:a', 'epoch-v1', 3, 2, 100, 300), ('task:b', 'epoch-v1', 1, 1, 200, 200);
      INSERT INTO events VALUES ('task:a', 2, 'a2', 'log:entry', 20, '{"n":2}'), ('task:a', 3, 'a3', 'log:entry', 30, '{"n":3}'),
        ('task:b', 1, 'b1', 'log:entry', 10, '{"n":1}');
      INSERT INTO checkpoints VALUES ('task:a', 1, '{"seq":1}');
    `,
    );

    const engine = new SqliteEngine({ path });
    await using(engine, async () => {
      assert.equal(engine.epoch, 'epoch-v1');
      const a = await engine.read('task:a', 0, 10);
      assert.deepEqual(
        { epoch: a.epoch, head: a.head, first: a.first, seqs: a.events.map((e) => [e.seq, e.id, e.data]) },
        {
          epoch: 'epoch-v1',
          head: 3,
          first: 2,
          seqs: [
            [2, 'a2', { n: 2 }],
            [3, 'a3', { n: 3 }],
          ],
        },
      );
      assert.deepEqual((await engine.getCheckpoint('task:a'))?.state, { seq: 1 });
      assert.deepEqual(
        (await engine.listStreams({ limit: 10 })).map((s) => [s.stream, s.createdAt, s.updatedAt]),
        [
          ['task:a', 100, 300],
          ['task:b', 200, 200],
        ],
      );
      // Appends continue the old seqs, and ids stored before the move still dedupe.
      const appended = await engine.append('task:a', [ev('a3'), ev('a4')]);
      assert.deepEqual(appended.results, [
        { id: 'a3', seq: 3, duplicate: true },
        { id: 'a4', seq: 4, duplicate: false },
      ]);
      assert.equal((await engine.append('task:c', [ev('c1')])).results[0]?.seq, 1);
    });
    const db = new Database(path);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .pluck()
        .all();
      assert.deepEqual(tables, ['checkpoints', 'events', 'meta', 'streams']);
    } finally {
      db.close();
    }
  });

  it('moves a version-2 database (rows keyed by stream and seq) over intact', async () => {
    const path = freshPath();
    writeOldDatabase(
      path,
      2,
      `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE streams (sid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, epoch TEXT NOT NULL,
        head INTEGER NOT NULL, first INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE INDEX streams_updated ON streams (updated_at, name);
      CREATE TABLE events (sid INTEGER NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
        time INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (sid, seq)) WITHOUT ROWID;
      CREATE UNIQUE INDEX events_id ON events (sid, id);
      CREATE TABLE checkpoints (stream TEXT PRIMARY KEY, seq INTEGER NOT NULL, state TEXT NOT NULL);
      INSERT INTO meta VALUES ('epoch', 'epoch-v2');
      INSERT INTO streams VALUES (1, 'task:a', 'epoch-v2', 3, 2, 100, 300), (2, 'task:b', 'epoch-v2', 1, 1, 200, 200);
      INSERT INTO events VALUES (1, 2, 'a2', 'log:entry', 20, '{"n":2}'), (1, 3, 'a3', 'log:entry', 30, '{"n":3}'),
        (2, 1, 'a2', 'log:entry', 10, '{"n":1}');
      INSERT INTO checkpoints VALUES ('task:a', 1, '{"seq":1}');
    `,
    );

    const engine = new SqliteEngine({ path });
    await using(engine, async () => {
      assert.equal(engine.epoch, 'epoch-v2');
      const a = await engine.read('task:a', 0, 10);
      assert.deepEqual(
        { head: a.head, first: a.first, seqs: a.events.map((e) => [e.seq, e.id, e.time, e.data]) },
        {
          head: 3,
          first: 2,
          seqs: [
            [2, 'a2', 20, { n: 2 }],
            [3, 'a3', 30, { n: 3 }],
          ],
        },
      );
      assert.deepEqual((await engine.getCheckpoint('task:a'))?.state, { seq: 1 });
      // Ids stay unique per stream: the same id in another stream is another event.
      assert.deepEqual((await engine.append('task:a', [ev('a2'), ev('a4')])).results, [
        { id: 'a2', seq: 2, duplicate: true },
        { id: 'a4', seq: 4, duplicate: false },
      ]);
      assert.deepEqual((await engine.append('task:b', [ev('a4')])).results, [
        { id: 'a4', seq: 2, duplicate: false },
      ]);
      assert.equal(await engine.trim('task:a', 3), 2);
      assert.deepEqual(
        (await engine.read('task:a', 0, 10)).events.map((e) => e.seq),
        [4],
      );
    });
    const db = new Database(path);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const objects = db
        .prepare("SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .pluck()
        .all();
      assert.deepEqual(objects, [
        'table checkpoints',
        'table events',
        'index events_id',
        'index events_seq',
        'table meta',
        'table streams',
        'index streams_updated',
      ]);
    } finally {
      db.close();
    }
  });

  it('adds the trace column to a version-3 database, whose rows read as untraced', async () => {
    const path = freshPath();
    writeOldDatabase(
      path,
      3,
      `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE streams (sid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, epoch TEXT NOT NULL,
        head INTEGER NOT NULL, first INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE INDEX streams_updated ON streams (updated_at, name);
      CREATE TABLE events (sid INTEGER NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
        time INTEGER NOT NULL, data TEXT NOT NULL);
      CREATE UNIQUE INDEX events_seq ON events (sid, seq);
      CREATE UNIQUE INDEX events_id ON events (id, sid);
      CREATE TABLE checkpoints (stream TEXT PRIMARY KEY, seq INTEGER NOT NULL, state TEXT NOT NULL);
      INSERT INTO meta VALUES ('epoch', 'epoch-v3');
      INSERT INTO streams VALUES (1, 'task:a', 'epoch-v3', 1, 1, 100, 100);
      INSERT INTO events VALUES (1, 1, 'a1', 'log:entry', 10, '{"n":1}');
    `,
    );
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const engine = new SqliteEngine({ path });
    await using(engine, async () => {
      await engine.append('task:a', [{ ...ev('a2'), trace: { traceparent } }]);
      const read = await engine.read('task:a', 0, 10);
      assert.deepEqual(
        read.events.map((e) => [e.id, e.trace]),
        [
          ['a1', undefined],
          ['a2', { traceparent }],
        ],
      );
      assert.equal('trace' in (read.events[0] as object), false);
    });
    const db = new Database(path);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
  });

  it('waits out a reader holding old frames at the timer pace instead of retrying in a loop', async () => {
    const path = freshPath();
    const engine = new SqliteEngine({ path, checkpointIntervalMs: 20 });
    const reader = new Database(path);
    try {
      await engine.append('task:held', [ev('h0')]);
      // An open read transaction pins the WAL as it is: no pass can copy what comes after.
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM events').get();
      for (let i = 1; i <= 200; i++) await engine.append('task:held', [ev(`h${i}`)]);
      // A window for a retry loop to show itself: a spinning one would start hundreds of passes.
      await letTimePass(300);
      const stats = engine.checkpointStats();
      // Timer-paced: about one round per 20 ms tick. Retrying at once ran thousands.
      assert.ok((stats?.started ?? 0) >= 1 && (stats?.started ?? 0) <= 40, `started: ${stats?.started}`);
      assert.equal(stats?.rounds, 0, 'nothing completes while the reader holds the frames');
    } finally {
      reader.exec('COMMIT');
      reader.close();
      await engine.close();
    }
  });

  it('refuses a negative checkpoint interval with a typed error', () => {
    assert.throws(
      () => new SqliteEngine({ path: freshPath(), checkpointIntervalMs: -1 }),
      (err: unknown) => err instanceof AgentwireError && /checkpointIntervalMs/.test(err.message),
    );
  });

  it('commits the appends of one event-loop turn in one transaction', async () => {
    const engine = new SqliteEngine({ path: freshPath() });
    await using(engine, async () => {
      const pending = Array.from({ length: 200 }, (_, i) => engine.append(`task:${i % 7}`, [ev(`e${i}`)]));
      await Promise.all(pending);
      assert.deepEqual(engine.stats(), { transactions: 1, failedTransactions: 0, appends: 200, events: 200 });
    });
  });

  it('commits early once a turn queues more than the batch limit', async () => {
    const engine = new SqliteEngine({ path: freshPath() });
    await using(engine, async () => {
      const pending: Promise<AppendBatchResult>[] = [];
      for (let i = 0; i < 12_000; i++) pending.push(engine.append('task:1', [ev(`e${i}`)]));
      // The first 10,000 were committed synchronously, before this turn ended.
      assert.equal(engine.stats().transactions, 2);
      const results = await Promise.all(pending);
      assert.equal(engine.stats().transactions, 3);
      assert.deepEqual(
        results.map((r) => r.results[0]?.seq),
        Array.from({ length: 12_000 }, (_, i) => i + 1),
      );
    });
  });

  it('fails a whole batch on a SQLite error with storage_unavailable, consuming no seqs, then recovers', async () => {
    const path = freshPath();
    const engine = new SqliteEngine({ path, busyTimeoutMs: 20 });
    await using(engine, async () => {
      await engine.append('task:1', [ev('a')]);
      const heard: number[] = [];
      engine.onAppend((_s, events) => heard.push(...events.map((e) => e.seq)));
      // Another connection holding the write lock makes our commit fail with SQLITE_BUSY.
      const blocker = new Database(path);
      blocker.exec('BEGIN IMMEDIATE');
      try {
        const failing = [engine.append('task:1', [ev('b')]), engine.append('task:2', [ev('c'), ev('d')])];
        for (const p of failing) {
          await assert.rejects(p, (err: unknown) => {
            assert.ok(err instanceof AgentwireError);
            assert.equal(err.code, 'storage_unavailable');
            assert.match(err.message, /locked|busy/i);
            return true;
          });
        }
        // Readers are not blocked by a writer in WAL mode.
        assert.equal((await engine.head('task:1')).head, 1);
      } finally {
        blocker.exec('ROLLBACK');
        blocker.close();
      }
      assert.deepEqual(heard, [], 'nothing failed is announced');
      const next = await engine.append('task:1', [ev('b')]);
      assert.deepEqual(next.results, [{ id: 'b', seq: 2, duplicate: false }]);
      assert.equal((await engine.head('task:2')).head, 0);
      assert.equal(engine.stats().failedTransactions, 1);
      assert.deepEqual(heard, [2]);
      assert.equal(engine.health.fault, undefined, 'a commit that went through ends the fault');
    });
  });

  it('does not write a row for a stream that is only looked at', async () => {
    const path = freshPath();
    const engine = new SqliteEngine({ path });
    await using(engine, async () => {
      await engine.head('task:ghost');
      await engine.read('task:ghost', 0, 10);
      await engine.trim('task:ghost', 10);
      await engine.append('task:ghost', []);
    });
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM streams').pluck().get(), 0);
    } finally {
      db.close();
    }
  });

  it('creates parent folders and uses WAL', async () => {
    const path = join(root, 'deep', 'er', 'still', 'log.sqlite');
    await new SqliteEngine({ path }).close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer schema', () => {
    const path = freshPath();
    new SqliteEngine({ path }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => new SqliteEngine({ path }),
      (err: unknown) =>
        err instanceof AgentwireError && err.code === 'internal' && /schema version/.test(err.message),
    );
  });

  it('reports an unopenable path as an AgentwireError', () => {
    assert.throws(
      () => new SqliteEngine({ path: root }),
      (err: unknown) => err instanceof AgentwireError && err.code === 'internal',
    );
  });
});
