// Redis going away under the engine: killed with SIGKILL mid-publish and started again on its AOF,
// and one node cut off from it while another commits. Appends must fail at once with
// `storage_unavailable` (not wait in a client queue), retries must be stored once, nothing
// acknowledged may be lost (appendfsync always), and every node's listeners must hear every seq
// once, in order, including commits whose announcements were lost.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentwireError, type AnyEnvelope } from '@agentwire/protocol';
import { startRedisServer, requireRedisServer, type RedisServer } from '../testing/redis-server.js';
import { TcpProxy } from '../testing/tcp-proxy.js';
import { waitUntil } from '../testing/wait.js';
import type { AppendInput, LogEngine } from './engine.js';
import { RedisEngine } from './redis.js';

const skip = requireRedisServer();

const ev = (id: string): AppendInput => ({ id, type: 'log:entry', time: Date.now(), data: { id } });

/** Every seq each listener of `engine` hears on `stream`, in the order heard. */
function listen(engine: LogEngine, stream: string): number[] {
  const seqs: number[] = [];
  engine.onAppend((s, events: AnyEnvelope[]) => {
    if (s === stream) seqs.push(...events.map((e) => e.seq));
  });
  return seqs;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/**
 * A producer as the SDKs are: publishes one event after another, and retries a refused one with the
 * same id after a short backoff until it is acknowledged.
 */
class Producer {
  readonly acked: string[] = [];
  readonly refusals: unknown[] = [];
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    private readonly engine: LogEngine,
    private readonly name: string,
    private readonly stream: string,
  ) {
    this.done = this.run();
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }

  private async run(): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const id = `${this.name}-${i}`;
      for (;;) {
        try {
          await this.engine.append(this.stream, [ev(id)]);
          this.acked.push(id);
          break;
        } catch (err) {
          this.refusals.push(err);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      // A steady pace, so the kill lands mid-publish rather than mid-burst.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

describe('the Redis engine when Redis goes down and comes back', { skip }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer({ appendfsync: 'always' });
  });
  after(() => redis?.close());

  it(
    'refuses appends at once while Redis is down, stores the retries once, and loses nothing acknowledged',
    { timeout: 60_000 },
    async () => {
      const prefix = 'outage-kill:';
      const stream = 'task:outage';
      const [a, b] = await Promise.all([
        RedisEngine.open({ url: redis.url, prefix }),
        RedisEngine.open({ url: redis.url, prefix }),
      ]);
      const heardA = listen(a, stream);
      const heardB = listen(b, stream);
      const producers = [new Producer(a, 'pa', stream), new Producer(b, 'pb', stream)];
      try {
        await waitUntil(() => producers.every((p) => p.acked.length >= 30), 'appends before the kill');
        const ackedBeforeKill = producers.flatMap((p) => [...p.acked]);
        const refusedBefore = producers.map((p) => p.refusals.length);
        await redis.kill('SIGKILL');
        const downAt = performance.now();
        // Both producers are refused while Redis is still down: nothing waits in a client queue.
        await waitUntil(
          () => producers.every((p, i) => p.refusals.length > refusedBefore[i]! + 2),
          'both producers to be refused while Redis is down',
        );
        const refusedMs = performance.now() - downAt;
        assert.ok(a.health.fault, 'the log reports the fault');
        assert.equal(a.connectionReport().ok, false);
        const ackedAtRestart = producers.map((p) => p.acked.length);
        await redis.start();
        await waitUntil(
          () => producers.every((p, i) => p.acked.length >= ackedAtRestart[i]! + 30),
          'appends after the restart',
        );
        await Promise.all(producers.map((p) => p.stop()));
        console.log(`# producers refused 3 times within ${refusedMs.toFixed(0)} ms of the kill`);

        for (const err of producers.flatMap((p) => p.refusals)) {
          assert.ok(err instanceof AgentwireError, String(err));
          assert.equal(err.code, 'storage_unavailable', err.message);
          assert.ok((err.details as { retryAfterMs?: number }).retryAfterMs! > 0, 'a Retry-After');
        }
        const acked = producers.flatMap((p) => p.acked);
        const log = await a.read(stream, 0, 10_000);
        const ids = log.events.map((e) => e.id);
        assert.equal(new Set(ids).size, ids.length, 'no event stored twice');
        assert.deepEqual(
          log.events.map((e) => e.seq),
          range(log.events.length),
          'gapless seqs',
        );
        const stored = new Set(ids);
        for (const id of ackedBeforeKill) assert.ok(stored.has(id), `${id}, acknowledged before the kill`);
        for (const id of acked) assert.ok(stored.has(id), `${id}, acknowledged`);
        // An append whose reply the kill cut off may be stored without having been acknowledged,
        // and is then acknowledged by its retry: stored events are exactly the acknowledged ones.
        assert.equal(ids.length, acked.length, 'every stored event was acknowledged once');

        const head = log.events.length;
        await waitUntil(
          () => heardA.length >= head && heardB.length >= head,
          () => `both nodes to hear seq ${head} (A ${heardA.length}, B ${heardB.length})`,
        );
        assert.deepEqual(heardA, range(head), 'node A heard every seq once, in order');
        assert.deepEqual(heardB, range(head), 'node B heard every seq once, in order');
        await waitUntil(() => a.health.fault === undefined && a.connectionReport().ok, 'A ready again');
      } finally {
        await Promise.all(producers.map((p) => p.stop()));
        await Promise.all([a.close(), b.close()]);
      }
    },
  );

  it(
    'delivers commits a node missed while cut off, with no further commit to reveal them',
    { timeout: 30_000 },
    async () => {
      const prefix = 'outage-cut:';
      const stream = 'task:cut';
      const proxy = await TcpProxy.start(redis.url.replace('redis:', 'http:'));
      const a = await RedisEngine.open({ url: redis.url, prefix });
      const b = await RedisEngine.open({ url: `redis://127.0.0.1:${proxy.port}`, prefix });
      const heardB = listen(b, stream);
      try {
        await a.append(stream, [ev('e1')]);
        await waitUntil(() => heardB.length === 1, 'B to hear the first commit');
        proxy.cut();
        await waitUntil(() => !b.connected, 'B to notice it is cut off');
        // Announced while B's subscriber is gone: B never hears these announcements.
        await a.append(stream, [ev('e2')]);
        await a.append(stream, [ev('e3'), ev('e4')]);
        proxy.restore();
        await waitUntil(
          () => heardB.length >= 4,
          () => `B to catch up (heard ${heardB.join(',')})`,
        );
        assert.deepEqual(heardB, [1, 2, 3, 4]);
        await a.append(stream, [ev('e5')]);
        await waitUntil(() => heardB.length >= 5, 'B to hear the live tail');
        assert.deepEqual(heardB, [1, 2, 3, 4, 5], 'every seq once, in order');
      } finally {
        await Promise.all([a.close(), b.close()]);
        await proxy.close();
      }
    },
  );
});
