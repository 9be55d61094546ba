import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { createGateway } from './gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'agentwire-metrics-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('/v1/stats reports publish-to-deliver latency, the log size on disk and watchers per stream', async () => {
  const gw = await createGateway({
    port: 0,
    logLevel: 'silent',
    engine: { kind: 'sqlite', path: join(dir, 'log.db') },
  });
  try {
    const ws = new WebSocket(gw.wsUrl);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const subscribed = new Promise((resolve) =>
      ws.on('message', (m) => String(m).includes('"subscribed"') && resolve(null)),
    );
    ws.send(JSON.stringify({ op: 'subscribe', stream: 'task:watched', ref: 'r1' }));
    await subscribed;
    for (let i = 0; i < 5; i++) {
      await gw.publish('task:watched', [{ type: 'log:entry', data: { level: 'info', message: `m${i}` } }]);
    }
    const stats = (await (await fetch(`${gw.url}/v1/stats`)).json()) as {
      latencyMs?: { p50: number; p99: number; max: number; samples: number };
      logBytes?: number;
      watchers?: Record<string, number>;
    };
    assert.ok(stats.latencyMs, 'latency reported');
    assert.equal(stats.latencyMs.samples, 5);
    assert.ok(
      stats.latencyMs.p50 >= 0 &&
        stats.latencyMs.p50 <= stats.latencyMs.p99 &&
        stats.latencyMs.p99 <= stats.latencyMs.max,
    );
    assert.ok((stats.logBytes ?? 0) > 0, 'SQLite file size reported');
    assert.deepEqual(stats.watchers, { 'task:watched': 1 });
    ws.close();
  } finally {
    await gw.close();
  }
});

test('a memory log reports no size, and no latency before anything was published', async () => {
  const gw = await createGateway({ port: 0, logLevel: 'silent', engine: { kind: 'memory' } });
  try {
    const stats = (await (await fetch(`${gw.url}/v1/stats`)).json()) as Record<string, unknown>;
    assert.equal(stats.logBytes, undefined);
    assert.equal(stats.latencyMs, undefined);
    assert.deepEqual(stats.watchers, {});
  } finally {
    await gw.close();
  }
});
