// WAIT before acknowledging, against real redis-servers of the test's own: with no replica to
// confirm, appends are refused as retryable; once a replica has caught up, the retry of the same
// ids is answered as the duplicate of what the first attempt stored, and later appends go through.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AgentwireError } from '@agentwire/protocol';
import { requireRedisServer, startRedisServer, type RedisServer } from '../testing/redis-server.js';
import { RedisEngine } from './redis.js';

const skip = requireRedisServer();
const servers: RedisServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const ev = (id: string) => ({
  id,
  type: 'log:entry',
  time: Date.now(),
  data: { level: 'info', message: id },
});

describe('Redis WAIT for replicas', { skip }, () => {
  it('refuses unconfirmed appends with storage_unavailable, and the retry is deduplicated', async () => {
    const primary = await startRedisServer();
    servers.push(primary);
    const engine = await RedisEngine.open({ url: primary.url, waitReplicas: 1, waitTimeoutMs: 100 });
    try {
      await assert.rejects(
        engine.append('task:w', [ev('a'), ev('b')]),
        (err: unknown) =>
          err instanceof AgentwireError &&
          err.code === 'storage_unavailable' &&
          (err.details as { cause?: string }).cause === 'NOREPLICAS',
      );
      servers.push(await startRedisServer({ replicaOf: `127.0.0.1:${primary.port}` }));
      // The retry, as a producer would send it: the same ids, answered once the replica confirms.
      // The replica's first sync can take seconds on a loaded machine; the bound only names a hang.
      const deadline = Date.now() + 60_000;
      let retry: Awaited<ReturnType<RedisEngine['append']>> | undefined;
      while (retry === undefined) {
        retry = await engine.append('task:w', [ev('a'), ev('b')]).catch((err: unknown) => {
          if (!(err instanceof AgentwireError) || err.code !== 'storage_unavailable' || Date.now() > deadline)
            throw err;
          return undefined;
        });
      }
      assert.deepEqual(retry.results, [
        { id: 'a', seq: 1, duplicate: true },
        { id: 'b', seq: 2, duplicate: true },
      ]);
      const next = await engine.append('task:w', [ev('c')]);
      assert.deepEqual(next.results, [{ id: 'c', seq: 3, duplicate: false }]);
      assert.ok(engine.stats().replicaRefusals >= 1);
    } finally {
      await engine.close();
    }
  });
});
