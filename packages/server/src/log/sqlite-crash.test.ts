import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { AnyEnvelope } from '@agentwire/protocol';
import { CRASH_STREAM, crashPayload } from '../testing/children/crash-writer.js';
import { SqliteEngine } from './sqlite.js';

const writer = fileURLToPath(new URL('../testing/children/crash-writer.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'agentwire-crash-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface WriterRun {
  epoch: string;
  startHead: number;
  /** seq -> id of every append the writer saw resolve before it died. */
  acked: Map<number, string>;
}

/** Runs the writer until it has acknowledged `killAfter` events, then SIGKILLs it. */
function runWriterUntilKilled(path: string, run: number, killAfter: number): Promise<WriterRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, path, String(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<number, string>();
    let epoch = '';
    let startHead = -1;
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      // A line cut short by the kill is not counted: only whole lines are certain acknowledgements.
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [word, ...rest] = line.split(' ');
        if (word === 'ready') {
          epoch = rest[0] ?? '';
          startHead = Number(rest[1]);
        } else if (word === 'ack') {
          for (const pair of rest) {
            const [seq, id] = pair.split(':');
            acked.set(Number(seq), id ?? '');
          }
        }
      }
      if (!killed && acked.size >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (code ${code}): ${stderr}`));
      else resolve({ epoch, startHead, acked });
    });
  });
}

function checkRawDatabase(path: string, head: number): void {
  const db = new Database(path);
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const row = db.prepare('SELECT sid, head, first FROM streams WHERE name = ?').get(CRASH_STREAM) as {
      sid: number;
      head: number;
      first: number;
    };
    assert.deepEqual({ head: row.head, first: row.first }, { head, first: 1 });
    const stats = db
      .prepare('SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM events WHERE sid = ?')
      .get(row.sid) as { n: number; lo: number; hi: number };
    assert.deepEqual(stats, { n: head, lo: 1, hi: head }, 'no row beyond the head, no hole below it');
    assert.equal(db.prepare('SELECT count(*) FROM events WHERE sid != ?').pluck().get(row.sid), 0);
  } finally {
    db.close();
  }
}

async function readAll(engine: SqliteEngine): Promise<AnyEnvelope[]> {
  const events: AnyEnvelope[] = [];
  for (;;) {
    const page = await engine.read(CRASH_STREAM, events.length, 2000);
    if (page.events.length === 0) return events;
    events.push(...page.events);
  }
}

describe('sqlite engine crash safety', () => {
  it('keeps every acknowledged event, whole and gapless, across 3 SIGKILLs', async () => {
    const path = join(root, 'crash', 'log.sqlite');
    let epoch: string | undefined;
    let expectedStart = 0;
    for (let run = 0; run < 3; run++) {
      const killAfter = 1500 + Math.floor(Math.random() * 2500);
      const result = await runWriterUntilKilled(path, run, killAfter);
      epoch ??= result.epoch;
      assert.equal(result.epoch, epoch, 'the writer reopened the same history');
      assert.equal(result.startHead, expectedStart, 'the writer resumed at the head the parent left');
      assert.ok(result.acked.size >= killAfter);

      const head = Math.max(expectedStart, ...result.acked.keys());
      const engine = new SqliteEngine({ path });
      try {
        const stored = await engine.head(CRASH_STREAM);
        assert.equal(stored.epoch, epoch);
        assert.equal(stored.first, 1);
        // Commits that finished after the last printed ack may survive too; nothing acked may be lost.
        assert.ok(stored.head >= head, `head ${stored.head} covers every ack (highest ${head})`);
        checkRawDatabase(path, stored.head);

        const events = await readAll(engine);
        assert.deepEqual(
          events.map((e) => e.seq),
          Array.from({ length: stored.head }, (_, i) => i + 1),
        );
        for (const [seq, id] of result.acked) assert.equal(events[seq - 1]?.id, id, `acked seq ${seq}`);
        for (const e of events) {
          assert.equal(e.epoch, epoch);
          assert.deepEqual(e.data, crashPayload(e.id), `content of seq ${e.seq}`);
        }
        assert.equal(new Set(events.map((e) => e.id)).size, events.length);

        const id = `parent-${run}`;
        const next = await engine.append(CRASH_STREAM, [
          { id, type: 'log:entry', time: Date.now(), data: crashPayload(id) },
        ]);
        assert.deepEqual(next.results, [{ id, seq: stored.head + 1, duplicate: false }]);
        assert.equal(next.epoch, epoch);
        expectedStart = stored.head + 1;
      } finally {
        await engine.close();
      }
    }
  });
});
