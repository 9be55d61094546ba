import type { Database } from 'better-sqlite3';
import { AgentwireError } from '@agentwire/protocol';
import { newEpoch } from './codec.js';

/** Bumped on every incompatible change; stored in PRAGMA user_version. */
export const SCHEMA_VERSION = 1;

const CREATE = `
  CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE IF NOT EXISTS streams (
    name       TEXT PRIMARY KEY,
    epoch      TEXT NOT NULL,
    head       INTEGER NOT NULL,
    first      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  -- listStreams walks this backwards: newest first without sorting every stream.
  CREATE INDEX IF NOT EXISTS streams_updated ON streams (updated_at, name);

  CREATE TABLE IF NOT EXISTS events (
    stream TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    id     TEXT NOT NULL,
    type   TEXT NOT NULL,
    time   INTEGER NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
  ) WITHOUT ROWID;
  -- The idempotency key: an insert that hits it is a duplicate, not an error.
  CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events (stream, id);

  CREATE TABLE IF NOT EXISTS checkpoints (
    stream TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL,
    state  TEXT NOT NULL
  );
`;

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
      if (version < SCHEMA_VERSION) {
        db.exec(CREATE);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }
      const row = db.prepare(`SELECT value FROM meta WHERE key = 'epoch'`).get() as
        { value: string } | undefined;
      if (row) return row.value;
      const epoch = newEpoch();
      db.prepare(`INSERT INTO meta (key, value) VALUES ('epoch', ?)`).run(epoch);
      return epoch;
    })
    .immediate();
}
