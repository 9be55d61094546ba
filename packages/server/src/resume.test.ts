import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AnyEnvelope } from '@agentwire/protocol';
import { createGateway } from './gateway.js';
import { WsProbe } from './testing/ws-probe.js';
import { pace, waitUntil } from './testing/wait.js';

/**
 * A subscriber that, like any correct client, reconnects and resumes from the last seq it holds.
 * It records every event it was given, so duplicates and gaps are visible to the assertions.
 */
class ResumingSubscriber {
  readonly received: AnyEnvelope[] = [];
  epoch: string | undefined;
  probe: WsProbe | undefined;
  connects = 0;
  /** Connection attempts refused (the gateway is down), each followed by a retry. */
  failedConnects = 0;
  private stopped = false;

  constructor(
    private readonly url: () => string,
    readonly stream: string,
  ) {}

  get lastSeq(): number {
    return this.received.at(-1)?.seq ?? 0;
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const probe = await WsProbe.open(this.url());
        this.probe = probe;
        this.connects++;
        const seen = probe.events.length;
        probe.ws.on('message', () => {
          for (const e of probe.events.splice(seen)) this.received.push(e);
          const sub = probe.find('subscribed');
          if (sub) this.epoch = sub.epoch;
        });
        probe.send({ op: 'subscribe', stream: this.stream, since: { epoch: this.epoch, seq: this.lastSeq } });
        await probe.until(() => probe.closeCode !== undefined || this.stopped, 60_000);
        probe.close();
      } catch {
        this.failedConnects++;
        await pace(50);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.probe?.close();
  }
}

/** Publishes numbered events over HTTP, retrying each with the same id until the gateway takes it. */
async function producer(url: () => string, stream: string, count: number, pauseMs: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    const body = JSON.stringify({
      events: [{ id: `ev-${i}`, type: 'log:entry', data: { level: 'info', message: `n=${i}` } }],
    });
    for (;;) {
      try {
        const res = await fetch(`${url()}/v1/streams/${encodeURIComponent(stream)}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (res.ok) break;
      } catch {
        // gateway restarting: retry with the same id
      }
      await pace(20);
    }
    if (pauseMs) await pace(pauseMs);
  }
}

function assertExactlyOnce(sub: ResumingSubscriber, count: number): void {
  const messages = sub.received.map((e) => (e.data as { message: string }).message);
  assert.deepEqual(
    sub.received.map((e) => e.seq),
    Array.from({ length: count }, (_, i) => i + 1),
    'every seq exactly once, in order',
  );
  assert.deepEqual(
    messages,
    Array.from({ length: count }, (_, i) => `n=${i + 1}`),
  );
}

describe('resume', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('survives the client socket being destroyed mid-stream while a producer keeps publishing', async () => {
    const gw = await createGateway({ port: 0, logLevel: 'silent' });
    try {
      const sub = new ResumingSubscriber(() => gw.wsUrl, 'task:cut');
      const running = sub.run();
      const total = 600;
      const publishing = producer(() => gw.url, 'task:cut', total, 1);
      for (let cut = 0; cut < 5; cut++) {
        // Cut only a connection that is live and has received something, so every cut is a real one.
        await waitUntil(
          () => sub.connects > cut && sub.probe?.ws.readyState === 1,
          'the subscriber to reconnect',
        );
        const seen = sub.received.length;
        await waitUntil(() => sub.received.length > seen, 'an event after the reconnect');
        sub.probe?.ws.terminate();
      }
      await publishing;
      await waitUntil(() => sub.lastSeq === total, 'every event');
      sub.stop();
      await running;
      assert.ok(sub.connects >= 5, `reconnected ${sub.connects} times`);
      assertExactlyOnce(sub, total);
    } finally {
      await gw.close();
    }
  });

  it('survives a gateway restart on the same port with the same data folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentwire-restart-'));
    dirs.push(dir);
    const engine = { kind: 'sqlite' as const, path: join(dir, 'log.db') };
    let gw = await createGateway({ port: 0, logLevel: 'silent', engine });
    const port = gw.port;
    const url = `http://127.0.0.1:${port}`;
    const sub = new ResumingSubscriber(() => `ws://127.0.0.1:${port}/v1/ws`, 'task:restart');
    const running = sub.run();
    const total = 400;
    const publishing = producer(() => url, 'task:restart', total, 2);
    for (let restart = 0; restart < 3; restart++) {
      // Restart only while events flow to a live subscriber, so every restart cuts a real stream.
      const seen = sub.received.length;
      await waitUntil(() => sub.received.length > seen, 'an event before the restart');
      await gw.close();
      // Down until the subscriber has been refused, so it resumes across a real gap.
      const failed = sub.failedConnects;
      await waitUntil(() => sub.failedConnects > failed, 'the subscriber to find the gateway down');
      gw = await createGateway({ port, logLevel: 'silent', engine });
    }
    await publishing;
    await waitUntil(() => sub.lastSeq === total, 'every event', 15_000);
    sub.stop();
    await running;
    await gw.close();
    assert.ok(sub.connects >= 4, `reconnected ${sub.connects} times`);
    assertExactlyOnce(sub, total);
    assert.equal(new Set(sub.received.map((e) => e.epoch)).size, 1, 'the epoch survived the restarts');
  });
});
