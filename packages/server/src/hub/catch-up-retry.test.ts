import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGateway } from '../gateway.js';
import type { ReadResult } from '../log/engine.js';
import { MemoryEngine } from '../log/memory.js';
import { storageUnavailable } from '../log/storage-health.js';
import { waitUntil } from '../testing/wait.js';
import { WsProbe } from '../testing/ws-probe.js';

/** A log whose reads fail as a Redis or a disk that went away fails them, while `down` is set. */
class UnreadableWhileDown extends MemoryEngine {
  down = false;
  refusedReads = 0;

  override read(stream: string, afterSeq: number, limit: number): Promise<ReadResult> {
    if (!this.down) return super.read(stream, afterSeq, limit);
    this.refusedReads++;
    return Promise.reject(storageUnavailable('ECONNREFUSED'));
  }
}

const line = (i: number) => ({
  type: 'log:entry' as const,
  data: { level: 'info' as const, message: `${i}` },
});

describe('a catch-up while the log cannot be read', () => {
  it('waits for the log and resumes, instead of ending the subscription', { timeout: 30_000 }, async () => {
    const engine = new UnreadableWhileDown();
    // No recent-events cache: the catch-up must read the log.
    const gw = await createGateway({
      port: 0,
      logLevel: 'silent',
      engine: { kind: 'custom', engine },
      recentEvents: { perStream: 0, total: 0 },
    });
    const probe = await WsProbe.open(`${gw.url.replace('http', 'ws')}/v1/ws`);
    try {
      const stream = 'task:catch-up-retry';
      for (let i = 1; i <= 5; i++) await gw.publish(stream, [line(i)]);
      engine.down = true;
      probe.send({ op: 'subscribe', stream, since: { seq: 0 } });
      await probe.waitFor('subscribed');
      await waitUntil(() => engine.refusedReads >= 2, 'the catch-up to read again after a refusal');
      assert.equal(probe.find('error'), undefined, 'the subscriber is not told to go away');
      assert.equal(probe.closeCode, undefined);
      assert.equal(probe.events.length, 0);

      engine.down = false;
      await probe.until(() => probe.events.length >= 5);
      for (let i = 6; i <= 8; i++) await gw.publish(stream, [line(i)]);
      await probe.until(() => probe.events.length >= 8);
      assert.deepEqual(
        probe.events.map((e) => e.seq),
        [1, 2, 3, 4, 5, 6, 7, 8],
        'every event once, in order, then the live tail',
      );
    } finally {
      probe.close();
      await gw.close();
    }
  });
});
