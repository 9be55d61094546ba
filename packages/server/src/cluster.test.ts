// Several gateway nodes in one process sharing one Redis: what a subscriber sees does not depend on
// which node it is connected to or which node the producer published on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AnyEnvelope } from '@agentwire/protocol';
import { Redis } from 'ioredis';
import { createGateway, type Gateway } from './gateway.js';
import { RedisEngine } from './log/redis.js';
import { requireService } from './testing/services.js';
import { WsProbe } from './testing/ws-probe.js';

const url = process.env.AGENTWIRE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const skip = await requireService('Redis', url);
const prefix = `agentwire-test:cluster-${randomBytes(6).toString('hex')}:`;

const entry = (id: string) => ({ id, type: 'log:entry', data: { level: 'info', message: id } });

async function subscribe(
  gateway: Gateway,
  stream: string,
  since?: { epoch: string; seq: number },
): Promise<WsProbe> {
  const probe = await WsProbe.open(gateway.wsUrl);
  probe.send({ op: 'subscribe', stream, ...(since && { since }) });
  await probe.waitFor('subscribed', (f) => f.stream === stream);
  return probe;
}

/** Publishes `ids` one batch at a time, in order, over HTTP to `gateway`. */
async function publishOverHttp(
  gateway: Gateway,
  stream: string,
  ids: string[],
  batch: number,
): Promise<void> {
  for (let i = 0; i < ids.length; i += batch) {
    const res = await fetch(`${gateway.url}/v1/streams/${encodeURIComponent(stream)}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: ids.slice(i, i + batch).map(entry) }),
    });
    assert.equal(res.status, 200, await res.text());
  }
}

/** Publishes `ids` in process, one batch at a time, in order. */
async function publishInProcess(
  gateway: Gateway,
  stream: string,
  ids: string[],
  batch: number,
): Promise<void> {
  for (let i = 0; i < ids.length; i += batch)
    await gateway.publish(stream, ids.slice(i, i + batch).map(entry));
}

function assertInOrderOnce(events: AnyEnvelope[], from: number, to: number, label: string): void {
  assert.deepEqual(
    events.map((e) => e.seq),
    Array.from({ length: to - from + 1 }, (_, i) => from + i),
    `${label}: every seq exactly once, in order`,
  );
  assert.equal(new Set(events.map((e) => e.id)).size, events.length, `${label}: no id twice`);
}

/** Ids of one producer appear in the order it published them. */
function assertProducerOrder(events: AnyEnvelope[], ids: string[]): void {
  const wanted = new Set(ids);
  assert.deepEqual(
    events.filter((e) => wanted.has(e.id)).map((e) => e.id),
    ids,
  );
}

describe('a cluster of gateways on one Redis', { skip }, () => {
  let nodes: Gateway[] = [];

  before(async () => {
    nodes = await Promise.all(
      [0, 1, 2].map(() =>
        createGateway({ port: 0, logLevel: 'silent', engine: { kind: 'redis', url, prefix } }),
      ),
    );
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    const redis = new Redis(url);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  });

  it(
    'shows a subscriber on one node what two other nodes publish to one stream at once',
    { timeout: 20_000 },
    async () => {
      const [a, b, c] = nodes as [Gateway, Gateway, Gateway];
      const stream = 'task:concurrent';
      const onA = await subscribe(a, stream);
      const onC = await subscribe(c, stream);
      const fromB = Array.from({ length: 150 }, (_, i) => `b-${i}`);
      const fromC = Array.from({ length: 150 }, (_, i) => `c-${i}`);
      const fromA = Array.from({ length: 60 }, (_, i) => `a-${i}`);
      await Promise.all([
        publishOverHttp(b, stream, fromB, 3),
        publishInProcess(c, stream, fromC, 5),
        publishInProcess(a, stream, fromA, 1),
      ]);
      const total = fromA.length + fromB.length + fromC.length;
      // A last event after everything: anything delivered twice would have arrived before it.
      await b.publish(stream, [entry('sentinel')]);
      for (const [label, probe] of [
        ['node A', onA],
        ['node C', onC],
      ] as const) {
        await probe.until(() => probe.events.some((e) => e.id === 'sentinel'), 15_000);
        assertInOrderOnce(probe.events, 1, total + 1, label);
        for (const ids of [fromA, fromB, fromC]) assertProducerOrder(probe.events, ids);
        probe.close();
      }
    },
  );

  it(
    'lets a subscriber resume on a different node with no gap and no duplicate',
    { timeout: 20_000 },
    async () => {
      const [a, b, c] = nodes as [Gateway, Gateway, Gateway];
      const stream = 'task:moving';
      const first = await subscribe(a, stream);
      await publishInProcess(c, stream, ['m-1', 'm-2', 'm-3', 'm-4'], 2);
      await first.until(() => first.events.length === 4);
      const epoch = first.find('subscribed')?.epoch;
      assert.ok(epoch);
      first.close();
      // Published while the subscriber is between nodes.
      await publishInProcess(b, stream, ['m-5', 'm-6'], 1);
      const second = await subscribe(b, stream, { epoch, seq: 4 });
      assert.equal(second.find('subscribed')?.recovered, true);
      await publishInProcess(a, stream, ['m-7'], 1);
      await second.until(() => second.events.some((e) => e.id === 'm-7'));
      assertInOrderOnce(second.events, 5, 7, 'resumed on node B');
      second.close();
    },
  );

  it('reads none of those commits back from Redis: each travelled with its announcement', () => {
    for (const node of nodes) {
      assert.ok(node.engine instanceof RedisEngine);
      assert.equal(node.engine.stats().rangeReads, 0);
      assert.ok(node.engine.stats().remoteEvents > 0);
    }
  });

  it(
    'reads commits too large to announce back only where they are watched, delivering them exactly once',
    { timeout: 20_000 },
    async () => {
      const small = `${prefix}small-announcements:`;
      const trio = await Promise.all(
        [0, 1, 2].map(() =>
          createGateway({
            port: 0,
            logLevel: 'silent',
            engine: { kind: 'redis', url, prefix: small, announceMaxBytes: 300 },
          }),
        ),
      );
      const [a, b, c] = trio as [Gateway, Gateway, Gateway];
      try {
        const stream = 'task:large';
        const onA = await subscribe(a, stream);
        const pad = 'p'.repeat(400);
        for (let i = 0; i < 10; i++) {
          // Alternately over and under the bound, so both ways interleave on one stream.
          const message = i % 2 === 0 ? `${pad}-${i}` : `small-${i}`;
          await b.publish(stream, [{ id: `l-${i}`, type: 'log:entry', data: { level: 'info', message } }]);
        }
        await onA.until(() => onA.events.some((e) => e.id === 'l-9'), 15_000);
        await b.publish(stream, [entry('sentinel')]);
        await onA.until(() => onA.events.some((e) => e.id === 'sentinel'), 15_000);
        assertInOrderOnce(onA.events, 1, 11, 'node A');
        assert.equal(String((onA.events[0]!.data as { message: string }).message), `${pad}-0`);
        assert.ok(a.engine instanceof RedisEngine);
        assert.ok(a.engine.stats().rangeReads >= 5, 'the large commits were read back');
        // Node C watches nothing: it read none of them, and a subscriber arriving later gets them all.
        assert.ok(c.engine instanceof RedisEngine);
        assert.equal(c.engine.stats().rangeReads, 0);
        assert.ok(c.engine.stats().skippedRanges >= 5);
        const late = await subscribe(c, stream, { epoch: onA.find('subscribed')!.epoch!, seq: 0 });
        await late.until(() => late.events.some((e) => e.id === 'sentinel'), 15_000);
        assertInOrderOnce(late.events, 1, 11, 'late on node C');
        await b.publish(stream, [{ id: 'after', type: 'log:entry', data: { level: 'info', message: pad } }]);
        await late.until(() => late.events.some((e) => e.id === 'after'), 15_000);
        assertInOrderOnce(late.events, 1, 12, 'live on node C');
        onA.close();
        late.close();
      } finally {
        await Promise.all(trio.map((g) => g.close()));
      }
    },
  );

  it('agrees on stream heads and epochs on every node', async () => {
    const heads = await Promise.all(nodes.map((n) => n.engine.head('task:concurrent')));
    assert.equal(new Set(heads.map((h) => `${h.epoch}/${h.head}`)).size, 1);
    assert.ok(heads[0]!.head > 0);
  });
});
