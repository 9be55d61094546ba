// Graceful shutdown: readiness fails first, clients on every transport are told to move, HTTP ingest
// in flight completes, what arrives later is refused retryably, and every acknowledged event is in
// the log afterwards.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { SioProbe } from './testing/sio-probe.js';
import { createGateway } from './gateway.js';
import { openEngine } from './log/index.js';
import { WsProbe } from './testing/ws-probe.js';
import { waitUntil } from './testing/wait.js';

type Outcome =
  | { kind: 'stored'; ids: string[]; at: number }
  | { kind: 'refused'; status: number; code: string }
  | { kind: 'unreachable'; reason: string };

/** One producer posting batches back to back until the gateway stops taking them. */
async function produce(base: string, stream: string, loop: number, outcomes: Outcome[]): Promise<void> {
  for (let n = 0; ; n++) {
    const ids = Array.from({ length: 20 }, (_, i) => `p${loop}-${n}-${i}`);
    let res: Response;
    try {
      res = await fetch(`${base}/v1/streams/${encodeURIComponent(stream)}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          events: ids.map((id) => ({ id, type: 'log:entry', data: { level: 'info', message: id } })),
        }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      outcomes.push({ kind: 'unreachable', reason: cause?.code ?? cause?.message ?? String(err) });
      return;
    }
    const body = (await res.json()) as { error?: { code: string } };
    if (res.status === 200) {
      outcomes.push({ kind: 'stored', ids, at: performance.now() });
      continue;
    }
    outcomes.push({ kind: 'refused', status: res.status, code: body.error?.code ?? '' });
    return;
  }
}

describe('graceful shutdown', () => {
  it('drains: readiness first, clients told to move, ingest in flight kept, the rest refused retryably', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentwire-shutdown-'));
    const path = join(dir, 'log.db');
    try {
      const gw = await createGateway({ port: 0, logLevel: 'silent', engine: { kind: 'sqlite', path } });
      const quiet = 'task:quiet';
      const ws = await WsProbe.open(gw.wsUrl);
      ws.send({ op: 'subscribe', stream: quiet });
      await ws.waitFor('subscribed');
      const sse = fetch(`${gw.url}/v1/streams/${encodeURIComponent(quiet)}/sse`).then((r) => r.text());
      const poll = fetch(`${gw.url}/v1/streams/${encodeURIComponent(quiet)}/poll?after=0&wait=20`).then(
        async (r) => ({ status: r.status, body: (await r.json()) as { events?: unknown[] } }),
      );

      // Socket.IO: a server-side disconnect would stop socket.io-client from reconnecting; a
      // transport closed under it makes it reconnect, which is what a restart must cause.
      const sio = await SioProbe.open(gw.url, { path: '/socket.io', transports: ['websocket'] });
      const sioReason = new Promise<string>((resolve) =>
        sio.socket.once('disconnect', (reason) => resolve(reason)),
      );

      const outcomes: Outcome[] = [];
      const producers = Array.from({ length: 16 }, (_, i) =>
        produce(gw.url, `task:load-${i % 4}`, i, outcomes),
      );
      await waitUntil(
        () => outcomes.filter((o) => o.kind === 'stored').length >= 40,
        '40 stored publishes',
        10_000,
        5,
      );

      const closeCalled = performance.now();
      const closing = gw.close({ drainDelayMs: 300, graceMs: 5_000 });
      // During the delay only readiness has changed: a load balancer stops routing, nobody is cut.
      const [ready, healthy] = await Promise.all([fetch(`${gw.url}/readyz`), fetch(`${gw.url}/healthz`)]);
      assert.equal(ready.status, 503, 'readiness fails first');
      assert.equal(healthy.status, 200, 'liveness holds: the process is fine');
      assert.equal(ws.closeCode, undefined, 'clients are not sent away during the delay');
      await closing;
      await Promise.all(producers);

      assert.equal(ws.closeCode, 1012, 'WebSocket clients are told to reconnect elsewhere');
      assert.match(await sse, /event: error\ndata: \{"code":"shutting_down"/, 'SSE ends with shutting_down');
      const answered = await poll;
      assert.equal(answered.status, 200, 'a waiting long poll is answered, so the client polls elsewhere');
      assert.equal(
        await sioReason,
        'transport close',
        'Socket.IO clients see a dropped transport and reconnect',
      );
      assert.deepEqual(answered.body.events, []);

      const stored = outcomes.filter((o): o is Extract<Outcome, { kind: 'stored' }> => o.kind === 'stored');
      const refused = outcomes.filter(
        (o): o is Extract<Outcome, { kind: 'refused' }> => o.kind === 'refused',
      );
      const unreachable = outcomes.filter(
        (o): o is Extract<Outcome, { kind: 'unreachable' }> => o.kind === 'unreachable',
      );
      for (const r of refused)
        assert.deepEqual([r.status, r.code], [503, 'shutting_down'], 'refusals are retryable');
      console.log(
        `# shutdown under load: ${stored.length} batches stored (${stored.filter((s) => s.at > closeCalled).length} answered after close() began), ` +
          `${refused.length} refused with 503 shutting_down, ${unreachable.length} could not connect (${[...new Set(unreachable.map((u) => u.reason))].join(', ') || '-'})`,
      );

      // Every batch the gateway acknowledged is in the log.
      const engine = await openEngine({ kind: 'sqlite', path });
      try {
        const logged = new Set<string>();
        for (let s = 0; s < 4; s++) {
          for (let after = 0; ;) {
            const page = await engine.read(`task:load-${s}`, after, 1_000);
            for (const e of page.events) logged.add(e.id);
            if (page.events.length === 0) break;
            after = page.events.at(-1)!.seq;
          }
        }
        const missing = stored.flatMap((s) => s.ids).filter((id) => !logged.has(id));
        assert.deepEqual(missing, [], 'no acknowledged event is lost');
      } finally {
        await engine.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
