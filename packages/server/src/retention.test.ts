import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { reduceTaskEvents, type AnyEnvelope, type AnyEventInput } from '@agentwire/protocol';
import type { EngineConfig } from './log/open.js';
import { createGateway } from './gateway.js';
import { WsProbe } from './testing/ws-probe.js';
import { waitUntil } from './testing/wait.js';

function history(n: number): AnyEventInput[] {
  const out: AnyEventInput[] = [
    { type: 'task:start', data: { taskId: 'ret', title: 'Retained', projectId: 'p' } },
    { type: 'agent:spawned', data: { agentId: 'a', name: 'worker', model: 'm' } },
  ];
  for (let i = 0; i < n; i++) {
    out.push({ type: 'tool:executing', data: { callId: `c${i}`, tool: 'search', agentId: 'a' } });
    out.push({ type: 'tool:complete', data: { callId: `c${i}`, durationMs: i } });
    out.push({ type: 'log:entry', data: { level: 'info', message: `step ${i}`, agentId: 'a' } });
  }
  return out;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

for (const kind of ['memory', 'sqlite'] as const) {
  describe(`retention on ${kind}`, () => {
    it('trims by count, keeps snapshots equal to the reducer over the full history, and resets stale resumes', async () => {
      let engine: EngineConfig = { kind: 'memory' };
      if (kind === 'sqlite') {
        const dir = mkdtempSync(join(tmpdir(), 'agentwire-ret-'));
        dirs.push(dir);
        engine = { kind: 'sqlite', path: join(dir, 'log.db') };
      }
      const gw = await createGateway({
        port: 0,
        logLevel: 'silent',
        engine,
        retention: { maxEvents: 40 },
        retentionIntervalMs: 20,
      });
      try {
        const stream = 'task:ret';
        const events = history(60);
        // Retention may trim while we publish, so the full history is taken from a live subscriber.
        const witness = await WsProbe.open(gw.wsUrl);
        witness.send({ op: 'subscribe', stream, since: { seq: 0 } });
        await witness.waitFor('subscribed');
        for (let i = 0; i < events.length; i += 25) await gw.publish(stream, events.slice(i, i + 25));
        await witness.until(() => witness.events.length === events.length);
        const all: AnyEnvelope[] = witness.events;
        witness.close();
        const expected = JSON.parse(JSON.stringify(reduceTaskEvents(all)));

        const retained = async () => {
          const h = await gw.engine.head(stream);
          return h.head - h.first + 1;
        };
        await waitUntil(async () => (await retained()) === 40, 'retention to trim to 40', 5000, 20);
        const head = await gw.engine.head(stream);
        assert.equal(head.head - head.first + 1, 40, 'exactly maxEvents retained');

        const snapshot = (await (await fetch(`${gw.url}/v1/tasks/ret`)).json()) as {
          seq: number;
          state: unknown;
        };
        assert.equal(snapshot.seq, head.head);
        assert.deepEqual(snapshot.state, expected);

        // A late joiner whose position was trimmed gets recovered:false and the same snapshot.
        const p = await WsProbe.open(gw.wsUrl);
        p.send({ op: 'subscribe', stream, since: { epoch: head.epoch, seq: 3 } });
        const sub = await p.waitFor('subscribed');
        assert.equal(sub.recovered, false);
        assert.deepEqual(sub.snapshot?.state, expected);
        p.close();
      } finally {
        await gw.close();
      }
    });
  });
}
