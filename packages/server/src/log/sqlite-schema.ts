import type { Database } from 'better-sqlite3';
import { AgentwireError } from '@agentwire/protocol';
import { newEpoch } from './codec.js';

/** Bumped on every incompatible change; stored in PRAGMA user_version. */
export const SCHEMA_VERSION = 4;

// Events are keyed by an integer stream id (sid) rather than the stream's name: both of the
// event table's B-trees repeat the key in every entry, and a name of twenty-odd bytes made each
// entry twice the size, so fewer fit a page and every commit wrote more pages.
const CREATE = `
  CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE IF NOT EXISTS streams (
    sid        INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    epoch      TEXT NOT NULL,
    head       INTEGER NOT NULL,
    first      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  -- listStreams walks this backwards: newest first without sorting every stream.
  CREATE INDEX IF NOT EXISTS streams_updated ON streams (updated_at, name);

  -- Rows are stored in append order (rowid) and found through two small indexes. Concurrent
  -- streams each write at their own end of a (sid, seq) tree, so keying the rows themselves that
  -- way dirtied a data page per stream per commit, and every dirty page is a 4 KiB WAL frame: with
  -- a few events per stream per commit, 2-3x the frames and ~1.7x the CPU of this layout. The
  -- idempotency index leads with the id, which is time-ordered when agentwire makes it, so new
  -- entries share the rightmost page instead of one per stream.
  CREATE TABLE IF NOT EXISTS events (
    sid  INTEGER NOT NULL,
    seq  INTEGER NOT NULL,
    id   TEXT NOT NULL,
    type TEXT NOT NULL,
    time INTEGER NOT NULL,
    data TEXT NOT NULL,
    -- The producer's W3C trace context (codec.ts encodeTrace); NULL for most events.
    trace TEXT
  );
  CREATE UNIQUE INDEX IF NOT EXISTS events_seq ON events (sid, seq);
  -- The idempotency key: an insert that hits it is a duplicate, not an error.
  CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events (id, sid);

  CREATE TABLE IF NOT EXISTS checkpoints (
    stream TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL,
    state  TEXT NOT NULL
  );
`;

/** Version 1 keyed events by the stream's name; its rows move over as they are. */
const FROM_V1 = `
  DROP INDEX IF EXISTS streams_updated;
  DROP INDEX IF EXISTS events_id;
  ALTER TABLE streams RENAME TO streams_v1;
  ALTER TABLE events RENAME TO events_v1;
  ${CREATE}
  INSERT INTO streams (name, epoch, head, first, created_at, updated_at)
    SELECT name, epoch, head, first, created_at, updated_at FROM streams_v1 ORDER BY created_at, name;
  INSERT INTO events (sid, seq, id, type, time, data)
    SELECT s.sid, e.seq, e.id, e.type, e.time, e.data FROM events_v1 e JOIN streams s ON s.name = e.stream
    ORDER BY s.sid, e.seq;
  DROP TABLE events_v1;
  DROP TABLE streams_v1;
`;

/** Version 2 kept each stream's events together in a WITHOUT ROWID table keyed (sid, seq). */
const FROM_V2 = `
  DROP INDEX IF EXISTS events_id;
  ALTER TABLE events RENAME TO events_v2;
  ${CREATE}
  INSERT INTO events (sid, seq, id, type, time, data)
    SELECT sid, seq, id, type, time, data FROM events_v2 ORDER BY sid, seq;
  DROP TABLE events_v2;
`;

/** Version 3 had no trace context; old rows read as untraced. */
const FROM_V3 = `ALTER TABLE events ADD COLUMN trace TEXT;`;

/** Creates or checks the schema and returns the database epoch. */
export function migrate(db: Database): string {
  return db
    .transaction(() => {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new AgentwireError(
          'internal',
          `The log database has schema version ${version}; this build understands up to ${SCHEMA_VERSION}. Upgrade agentwire.`,
        );
      }
      if (version === 1) db.exec(FROM_V1);
      else if (version === 2) db.exec(FROM_V2);
      else if (version === 3) db.exec(FROM_V3);
      else if (version < SCHEMA_VERSION) db.exec(CREATE);
      if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      const row = db.prepare(`SELECT value FROM meta WHERE key = 'epoch'`).get() as
        { value: string } | undefined;
      if (row) return row.value;
      const epoch = newEpoch();
      db.prepare(`INSERT INTO meta (key, value) VALUES ('epoch', ?)`).run(epoch);
      return epoch;
    })
    .immediate();
}
