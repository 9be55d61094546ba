import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireRedisServer } from '@agentwire/server/testing';
import { ALL_SERVERS, runBench, type ScenarioName } from './run.js';
import { nchanInstalled } from './server-proc.js';

// Every scenario once, at a scale of tens of connections and steps of a quarter second, against
// every peer that is installed: this checks the harness works end to end, not how fast anything is.
const servers = nchanInstalled() ? ALL_SERVERS : ALL_SERVERS.filter((s) => s !== 'nchan');
const run = (scenario: ScenarioName) =>
  runBench({ scenarios: [scenario], scale: 'smoke', servers, log: () => {} });

test('bench harness smoke run', async (t) => {
  if (!servers.includes('nchan')) {
    t.diagnostic(
      'nchan peer skipped: nginx with libnginx-mod-nchan is not installed (npm run bench installs it).',
    );
  }

  await t.test('broadcast: every server delivers to its subscribers', async () => {
    const rows = await run('broadcast-1k');
    assert.deepEqual(new Set(rows.map((r) => r.server)), new Set(servers));
    for (const r of rows) assert.ok(r.perSec! > 0 && r.p99! >= 0, `${r.server} delivered nothing`);
  });

  await t.test('many tasks: one stream per subscriber', async () => {
    const rows = await run('tasks-10k');
    for (const r of rows) assert.ok(r.perSec! > 0, `${r.server} delivered nothing`);
  });

  await t.test('idle connections: memory per connection is measured', async () => {
    const rows = await run('idle-10k');
    assert.equal(rows.length, servers.length);
    for (const r of rows) assert.ok(Number.isFinite(r.bytesPerConn), `${r.server} has no memory reading`);
  });

  await t.test('durable ingest: HTTP and SDK, fixed rate and saturation', async () => {
    const rows = await run('ingest');
    assert.equal(rows.length, 4);
    for (const r of rows)
      assert.ok(r.perSec! > 0 && !r.note, `${r.mode}: ${r.note ?? 'nothing acknowledged'}`);
  });

  await t.test('token streams: deltas delivered, late joins measured, slow readers’ text exact', async () => {
    const rows = await run('tokens');
    assert.deepEqual(
      rows.map((r) => r.server),
      servers.filter((s) => s !== 'nchan'),
    );
    for (const r of rows) {
      assert.ok(r.perSec! > 0, `${r.server} delivered nothing`);
      assert.match(r.note ?? '', /late join [\d,]+ B/);
      assert.match(r.note ?? '', /slow: (\d+)\/\1 exact/, `${r.server}: ${r.note}`);
    }
  });

  await t.test(
    'node kill: agentwire subscribers of the killed node resume on the other, nothing lost',
    async () => {
      const rows = await runBench({
        scenarios: ['node-kill'],
        scale: 'smoke',
        servers: ['agentwire', 'socketio'],
        log: () => {},
      });
      const ours = rows.find((r) => r.server === 'agentwire');
      assert.match(ours?.note ?? '', /lost 0 events.*duplicated 0/, `agentwire: ${ours?.note}`);
      assert.ok(rows.some((r) => r.server === 'socketio'));
    },
  );

  await t.test(
    'cluster: gateways on one Redis deliver everything, Redis commands per event counted',
    async () => {
      const rows = await runBench({
        scenarios: ['cluster'],
        scale: 'smoke',
        servers: ['agentwire'],
        log: () => {},
      });
      assert.equal(rows.length, 2);
      for (const r of rows) {
        assert.ok(r.perSec! > 0, `${r.mode}: delivered nothing`);
        assert.match(
          r.note ?? '',
          /Redis cmds\/event [\d.]+ .*xrange [\d.]+, evalsha [\d.]+, publish [\d.]+/,
        );
      }
    },
  );

  await t.test(
    'durability: each appendfsync setting measured, nothing acknowledged lost to kill -9',
    async (t) => {
      const missing = requireRedisServer();
      if (missing !== undefined) {
        t.skip(missing);
        return;
      }
      const rows = await run('durability');
      assert.deepEqual(
        rows.map((r) => r.mode),
        ['appendfsync always', 'appendfsync everysec', 'appendfsync no'],
      );
      for (const r of rows) {
        assert.ok(r.perSec! > 0, `${r.mode}: nothing acknowledged`);
        assert.match(r.note ?? '', /lost \d+ of [1-9]\d* acknowledged/, `${r.mode}: ${r.note}`);
      }
      // appendfsync always: an acknowledged event has been written and fsynced before its reply.
      assert.match(rows[0]!.note ?? '', /lost 0 of/, rows[0]!.note);
    },
  );

  await t.test(
    'failover: publishing goes on after the Redis primary is killed, and WAIT loses nothing',
    async (t) => {
      const missing = requireRedisServer();
      if (missing !== undefined) {
        t.skip(missing);
        return;
      }
      const rows = await run('failover');
      assert.equal(rows.length, 6);
      for (const r of rows.filter((r) => r.perSec !== undefined))
        assert.ok(r.perSec! > 0, `${r.mode}: nothing`);
      const wait = rows.find((r) => r.mode === 'WAIT 1 replica, kill -9 primary');
      assert.ok(wait && Number.isFinite(wait.timeS), `WAIT: ${wait?.note}`);
      assert.match(wait.note ?? '', /^0 of \d+ acknowledged events missing/);
    },
  );

  await t.test('reconnect storm: every subscriber resumes every missed event', async () => {
    const rows = await run('storm');
    const ours = rows.find((r) => r.server === 'agentwire');
    assert.ok(ours && Number.isFinite(ours.timeS), `agentwire: ${ours?.note}`);
    assert.ok(rows.some((r) => r.server === 'socketio'));
    if (servers.includes('nchan')) {
      const nchan = rows.find((r) => r.server === 'nchan');
      assert.ok(nchan && Number.isFinite(nchan.timeS), `nchan: ${nchan?.note}`);
    }
  });
});
