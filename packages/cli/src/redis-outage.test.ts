// Redis down and back under a cluster: three gateways on a redis-server of the test's own
// (appendfsync always), the agent SDK publishing through all three, a client SDK subscriber on each.
// Redis is killed with SIGKILL mid-publish and started again on its AOF. While it is down producers
// are refused with `storage_unavailable` and a Retry-After, every node is not ready (naming redis)
// yet alive; after it, every event is stored once and every subscriber has every seq once, in order.
// Stalls are printed, never asserted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { connect, type AgentwireError as ProducerError } from '@agentwire/agent';
import { createGateway, type Gateway } from '@agentwire/server';
import { requireRedisServer, startRedisServer, type RedisServer } from '@agentwire/server/testing';
import { waitFor } from './testing/index.js';
import { longestGap, watch, type Watcher } from './testing/watchers.js';

const skip = requireRedisServer();
const PUBLISH_EVERY_MS = 10;

/** What one HTTP refusal of a publish said. */
interface Refusal {
  status: number;
  code: string | undefined;
  retryAfter: string | null;
}

async function readyz(url: string): Promise<{ status: number; body: { checks: Record<string, unknown> } }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, unknown> } };
}

describe('Redis killed and restarted under three gateways', { skip }, () => {
  let redis: RedisServer | undefined;
  const gateways: Gateway[] = [];
  const watchers: Watcher[] = [];

  after(async () => {
    await Promise.all(watchers.map((w) => w.client.close()));
    await Promise.all(gateways.map((g) => g.close()));
    await redis?.close();
  });

  it(
    'refuses producers with storage_unavailable, is not ready, then loses and repeats nothing',
    { timeout: 90_000 },
    async () => {
      redis = await startRedisServer({ appendfsync: 'always' });
      const prefix = `outage-${randomBytes(4).toString('hex')}:`;
      for (let i = 0; i < 3; i++) {
        gateways.push(
          await createGateway({
            port: 0,
            logLevel: 'silent',
            engine: { kind: 'redis', url: redis.url, prefix },
          }),
        );
      }
      const urls = gateways.map((g) => g.url);

      const refusals: Refusal[] = [];
      const recordingFetch: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        if (!res.ok) {
          const body = (await res
            .clone()
            .json()
            .catch(() => undefined)) as { error?: { code?: string } } | undefined;
          refusals.push({
            status: res.status,
            code: body?.error?.code,
            retryAfter: res.headers.get('retry-after'),
          });
        }
        return res;
      };
      const errors: ProducerError[] = [];
      const producer = connect({
        url: urls,
        name: 'outage-producer',
        commands: false,
        fetch: recordingFetch,
        // Redis answers Retry-After 2 s; this rides out an outage of up to about 30 s.
        retry: { attempts: 16 },
        onError: (err) => errors.push(err),
      });
      const task = await producer.startTask({
        title: 'outage',
        taskId: `outage-${randomBytes(4).toString('hex')}`,
      });

      // One subscriber per node, each knowing only its node: a stall is that node's own.
      gateways.forEach((g, i) => {
        watchers.push(watch(`s@${'ABC'[i]}`, g.url, task.stream));
      });

      let published = 0;
      let acknowledged = 0;
      const publisher = setInterval(() => {
        void task.log('info', `n-${published++}`).then(
          () => acknowledged++,
          () => undefined,
        );
      }, PUBLISH_EVERY_MS);
      try {
        await waitFor(() => watchers.every((w) => w.events.length >= 20), 'every subscriber to be live');

        const killedAt = performance.now();
        await redis.kill('SIGKILL');
        await waitFor(
          () => refusals.some((r) => r.code === 'storage_unavailable'),
          'a publish refused with storage_unavailable',
        );
        const refused = refusals.find((r) => r.code === 'storage_unavailable')!;
        assert.equal(refused.status, 503);
        assert.ok(Number(refused.retryAfter) > 0, 'with a Retry-After');
        for (const url of urls) {
          await waitFor(async () => (await readyz(url)).status === 503, `${url} not ready`);
          const { body } = await readyz(url);
          assert.equal((body.checks.redis as { ok: boolean }).ok, false, JSON.stringify(body));
          assert.equal((await fetch(`${url}/healthz`)).status, 200, 'still alive');
        }
        const ackedBeforeRestart = acknowledged;

        const restartedAt = performance.now();
        await redis.start();
        for (const url of urls) {
          await waitFor(async () => (await readyz(url)).status === 200, `${url} ready again`);
        }
        const readyAt = performance.now();
        await waitFor(() => acknowledged >= ackedBeforeRestart + 50, 'publishing to go on');

        clearInterval(publisher);
        await task.complete({ published });
        await producer.flush();
        await waitFor(
          () => watchers.every((w) => w.events.some((e) => e.type === 'task:complete')),
          'every subscriber to see the end',
          30_000,
        );

        assert.deepEqual(errors, [], 'the producer never gave up on an event');
        const res = await fetch(`${urls[0]}/v1/streams/${encodeURIComponent(task.stream)}`);
        const { head } = (await res.json()) as { head: number };
        const wanted = Array.from({ length: published }, (_, i) => `n-${i}`);
        for (const w of watchers) {
          assert.equal(w.resets, 0, `${w.name}: resumed, never reset`);
          assert.deepEqual(
            w.events.map((e) => e.seq),
            Array.from({ length: head }, (_, i) => i + 1),
            `${w.name}: every seq exactly once, in order`,
          );
          const logs = w.events
            .filter((e) => e.type === 'log:entry')
            .map((e) => (e.data as { message: string }).message);
          assert.deepEqual(logs, wanted, `${w.name}: every published event exactly once, in publish order`);
        }

        const end = performance.now();
        console.log(
          `# ${published} events, one every ${PUBLISH_EVERY_MS} ms; Redis down ${(restartedAt - killedAt).toFixed(0)} ms, ` +
            `all nodes ready ${(readyAt - restartedAt).toFixed(0)} ms after its restart; ` +
            `${refusals.length} publishes refused (${[...new Set(refusals.map((r) => r.code))].join(', ')})`,
        );
        console.log(
          `# longest stall per subscriber (ms): ${watchers
            .map((w) => `${w.name} ${longestGap(w.arrivals, killedAt, end).toFixed(0)}`)
            .join(', ')}`,
        );
      } finally {
        clearInterval(publisher);
        await producer.close().catch(() => undefined);
      }
    },
  );
});
