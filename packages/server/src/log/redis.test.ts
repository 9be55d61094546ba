import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentwireError, type AnyEnvelope } from '@agentwire/protocol';
import { Redis } from 'ioredis';
import { requireRedisServer, startRedisServer, type RedisServer } from '../testing/redis-server.js';
import { requireService } from '../testing/services.js';
import { redisCommandCalls } from '../testing/redis.js';
import { waitUntil } from '../testing/wait.js';
import type { AppendInput, LogEngine } from './engine.js';
import { runEngineSuite } from '../testing/engine-suite.js';
import { redisKeys } from './redis-keys.js';
import { APPEND, runScript } from './redis-scripts.js';
import { RedisEngine, type RedisEngineOptions } from './redis.js';

const url = process.env.AGENTWIRE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const skip = await requireService('Redis', url);

// Every engine of this run lives under its own prefix below this one; all of it is deleted at the end.
const root = `agentwire-test:${randomBytes(6).toString('hex')}:`;
let counter = 0;
const freshPrefix = (): string => `${root}${++counter}:`;
const open = (prefix: string, extra: Partial<RedisEngineOptions> = {}): Promise<RedisEngine> =>
  RedisEngine.open({ url, prefix, ...extra });

after(async () => {
  if (skip) return;
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${root}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
});

const ev = (id: string, data: unknown = { id }): AppendInput => ({
  id,
  type: 'log:entry',
  time: Date.now(),
  data,
});
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function using<T>(engines: LogEngine[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await Promise.all(engines.map((e) => e.close()));
  }
}

/** Resolves once `check` holds, re-checked after each delivery; the suite's own timeout bounds it. */
function heardAll(engine: LogEngine, stream: string, count: number): { seqs: number[]; done: Promise<void> } {
  const seqs: number[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  engine.onAppend((s, events: AnyEnvelope[]) => {
    if (s !== stream) return;
    seqs.push(...events.map((e) => e.seq));
    if (seqs.length >= count) resolve();
  });
  return { seqs, done };
}

describe('redis log engine', { skip }, () => {
  runEngineSuite({
    name: 'redis',
    create: () => open(freshPrefix()),
    reopen: async (engine) => {
      const { prefix } = engine as RedisEngine;
      await engine.close();
      return open(prefix);
    },
  });

  describe('redis engine specifics', () => {
    it(
      'group-commits the appends a stream receives while a commit is in flight',
      { timeout: 15_000 },
      async () => {
        const engine = await open(freshPrefix());
        await using([engine], async () => {
          const results = await Promise.all(range(1, 300).map((i) => engine.append('task:1', [ev(`e${i}`)])));
          assert.deepEqual(
            results.map((r) => r.results[0]?.seq),
            range(1, 300),
          );
          const stats = engine.stats();
          assert.equal(stats.appends, 300);
          assert.ok(stats.commits < 300, `expected fewer commits than appends, got ${stats.commits}`);
        });
      },
    );

    it(
      'shares one gapless seq and one dedupe index between nodes appending to one stream',
      { timeout: 15_000 },
      async () => {
        const prefix = freshPrefix();
        const [a, b] = await Promise.all([open(prefix), open(prefix)]);
        await using([a, b], async () => {
          const pending = range(1, 60).flatMap((i) => [
            a.append('task:1', [ev(`a${i}`), ev(`shared${i}`)]),
            b.append('task:1', [ev(`b${i}`), ev(`shared${i}`)]),
          ]);
          const results = (await Promise.all(pending)).flatMap((r) => r.results);
          const stored = results.filter((r) => !r.duplicate);
          assert.equal(stored.length, 180, 'every shared id is stored once');
          assert.deepEqual(
            stored.map((r) => r.seq).sort((x, y) => x - y),
            range(1, 180),
          );
          const read = await b.read('task:1', 0, 1000);
          assert.deepEqual(
            read.events.map((e) => e.seq),
            range(1, 180),
          );
          for (const dup of results.filter((r) => r.duplicate)) {
            assert.equal(read.events[dup.seq - 1]?.id, dup.id, 'a duplicate reports the original seq');
          }
          assert.equal((await a.head('task:1')).epoch, read.epoch);
        });
      },
    );

    it(
      "delivers another node's events to listeners exactly once, in order, while both append",
      { timeout: 15_000 },
      async () => {
        const prefix = freshPrefix();
        const [a, b] = await Promise.all([open(prefix), open(prefix)]);
        await using([a, b], async () => {
          const heardA = heardAll(a, 'task:1', 200);
          const heardB = heardAll(b, 'task:1', 200);
          const pending: Promise<unknown>[] = [];
          for (let i = 0; i < 100; i++) {
            pending.push(a.append('task:1', [ev(`a${i}`)]), b.append('task:1', [ev(`b${i}`)]));
          }
          await Promise.all(pending);
          await Promise.all([heardA.done, heardB.done]);
          assert.deepEqual(heardA.seqs, range(1, 200));
          assert.deepEqual(heardB.seqs, range(1, 200));
          assert.ok(a.stats().remoteEvents > 0 && b.stats().remoteEvents > 0);
        });
      },
    );

    it(
      'fills in commits whose announcement never arrived, before later ones',
      { timeout: 15_000 },
      async () => {
        const prefix = freshPrefix();
        const [a, b] = await Promise.all([open(prefix), open(prefix)]);
        const raw = new Redis(url);
        await using([a, b], async () => {
          const heard = heardAll(a, 'task:1', 6);
          await b.append('task:1', [ev('1'), ev('2')]);
          // A writer whose Pub/Sub announcement is lost: the same script, announcing on a dead channel.
          const keys = redisKeys(prefix);
          await runScript(
            raw,
            APPEND,
            [keys.meta('task:1'), keys.events('task:1'), keys.ids('task:1'), keys.index, keys.epoch],
            [
              'unused',
              Date.now(),
              `${prefix}nowhere`,
              'ghost',
              '',
              'task:1',
              1,
              0,
              2,
              '3',
              'log:entry',
              1,
              '{}',
              '',
              '4',
              'log:entry',
              1,
              '{}',
              '',
            ],
          );
          await b.append('task:1', [ev('5'), ev('6')]);
          await heard.done;
          assert.deepEqual(heard.seqs, range(1, 6));
          // The lost commit was read back; the ones announced with their events were not.
          assert.equal(a.stats().rangeReads, 1);
          // A's own next commit continues from there without repeating anything.
          await a.append('task:1', [ev('7')]);
          assert.deepEqual(heard.seqs, range(1, 7));
        }).finally(() => raw.disconnect());
      },
    );

    it('keeps committing and delivering while its subscriber reconnects', { timeout: 15_000 }, async () => {
      const prefix = freshPrefix();
      const [a, b] = await Promise.all([open(prefix), open(prefix)]);
      const raw = new Redis(url);
      await using([a, b], async () => {
        const heard: number[] = [];
        a.onAppend((_s, events) => heard.push(...events.map((e) => e.seq)));
        await b.append('task:1', [ev('1')]);
        const clients = (await raw.client('LIST')) as string;
        const line = clients.split('\n').find((l) => l.includes(`name=agentwire:${a.nodeId}:sub`));
        const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
        assert.ok(id, 'the subscriber connection is named');
        await raw.client('KILL', 'ID', id);
        // Its own announcement may never come: the append is delivered from the reply instead.
        const own = await a.append('task:1', [ev('2')]);
        assert.equal(own.results[0]?.seq, 2);
        assert.ok(heard.includes(2), 'listeners heard the commit before it resolved');
        // Once resubscribed, the next announcement fills in whatever was missed meanwhile.
        let next = 3;
        do {
          await b.append('task:1', [ev(String(next++))]);
          await sleep(20);
        } while (!heard.includes(next - 1));
        assert.deepEqual(heard, range(1, next - 1), 'every seq once, in order');
      }).finally(() => raw.disconnect());
    });

    it('keeps trimmed ids deduped for the configured window', { timeout: 15_000 }, async () => {
      const prefix = freshPrefix();
      const windowed = await open(prefix, { dedupeWindowMs: 60_000 });
      const contract = await open(freshPrefix());
      await using([windowed, contract], async () => {
        for (const engine of [windowed, contract]) {
          await engine.append('task:1', [ev('a'), ev('b'), ev('c')]);
          assert.equal(await engine.trim('task:1', 2), 2);
        }
        const again = await windowed.append('task:1', [ev('a'), ev('d')]);
        assert.deepEqual(again.results, [
          { id: 'a', seq: 1, duplicate: true },
          { id: 'd', seq: 4, duplicate: false },
        ]);
        const stored = await contract.append('task:1', [ev('a')]);
        assert.deepEqual(stored.results, [{ id: 'a', seq: 4, duplicate: false }]);
      });
    });

    it('trims a long history in bounded chunks', { timeout: 15_000 }, async () => {
      const engine = await open(freshPrefix());
      await using([engine], async () => {
        await engine.append(
          'task:1',
          range(1, 2500).map((i) => ev(`e${i}`, i)),
        );
        assert.equal(await engine.trim('task:1', 2400), 2400);
        const read = await engine.read('task:1', 0, 1000);
        assert.deepEqual(
          read.events.map((e) => e.seq),
          range(2401, 2500),
        );
        assert.equal((await engine.append('task:1', [ev('e1')])).results[0]?.duplicate, false);
        assert.equal((await engine.append('task:1', [ev('e2401')])).results[0]?.seq, 2401);
      });
    });

    it(
      'fails a commit Redis refuses with `internal`, storing nothing, and continues',
      { timeout: 15_000 },
      async () => {
        const prefix = freshPrefix();
        const engine = await open(prefix);
        const raw = new Redis(url);
        await using([engine], async () => {
          await engine.append('task:1', [ev('a')]);
          const keys = redisKeys(prefix);
          // Someone else wrote a key of the wrong type: the script fails before its first write.
          await raw.set(keys.ids('task:2'), 'not a hash');
          await assert.rejects(engine.append('task:2', [ev('x')]), (err: unknown) => {
            assert.ok(err instanceof AgentwireError);
            assert.equal(err.code, 'internal');
            return true;
          });
          assert.deepEqual(await engine.head('task:2'), {
            stream: 'task:2',
            epoch: (await engine.head('task:1')).epoch,
            head: 0,
            first: 1,
          });
          assert.equal(await raw.exists(keys.events('task:2')), 0);
          assert.equal((await engine.append('task:1', [ev('b')])).results[0]?.seq, 2);
        }).finally(() => raw.disconnect());
      },
    );

    it('refuses to open when Redis cannot be reached', { timeout: 15_000 }, async () => {
      await assert.rejects(
        RedisEngine.open({ url: 'redis://127.0.0.1:1', prefix: freshPrefix() }),
        (err: unknown) => {
          assert.ok(err instanceof AgentwireError);
          assert.equal(err.code, 'unavailable');
          assert.match(err.message, /127\.0\.0\.1:1/);
          return true;
        },
      );
    });
  });
});

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

// On a redis-server of its own, so INFO commandstats counts this test's commands and nobody else's.
describe('redis engine reads per event', { skip: skip ?? requireRedisServer() }, () => {
  let server: RedisServer;
  let raw: Redis;
  before(async () => {
    server = await startRedisServer();
    raw = new Redis(server.url);
  });
  after(async () => {
    raw?.disconnect();
    await server?.close();
  });

  /** Every envelope a node's listeners hear on `stream`, and a promise of the `count`th. */
  function heard(engine: LogEngine, stream: string, count: number) {
    const events: AnyEnvelope[] = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    engine.onAppend((s, batch) => {
      if (s !== stream) return;
      events.push(...batch);
      if (events.length >= count) resolve();
    });
    return { events, done };
  }

  async function nodes(extra: Partial<RedisEngineOptions> = {}): Promise<RedisEngine[]> {
    const prefix = freshPrefix();
    return Promise.all([0, 1, 2].map(() => RedisEngine.open({ url: server.url, prefix, ...extra })));
  }

  it(
    'delivers commits that fit announceMaxBytes from their announcement: no node reads them back',
    { timeout: 15_000 },
    async () => {
      const [a, b, c] = (await nodes()) as [RedisEngine, RedisEngine, RedisEngine];
      await using([a, b, c], async () => {
        const onB = heard(b, 'task:1', 60);
        const onC = heard(c, 'task:1', 60);
        const before = await redisCommandCalls(raw);
        for (let i = 0; i < 30; i++) {
          await a.append('task:1', [
            { ...ev(`e${i}`, { text: `ünïcødé \u2028 "quoted" ${i}`, nested: { n: i, list: [1, null] } }) },
            { ...ev(`t${i}`), trace: { traceparent, ...(i % 2 === 0 && { tracestate: 'k=v' }) } },
          ]);
        }
        await Promise.all([onB.done, onC.done]);
        const after = await redisCommandCalls(raw);
        const stored = (await a.read('task:1', 0, 100)).events;
        assert.deepEqual(onB.events, stored, 'node B heard exactly what the log holds, trace included');
        assert.deepEqual(onC.events, stored, 'node C heard exactly what the log holds, trace included');
        assert.equal((after.get('xrange') ?? 0) - (before.get('xrange') ?? 0), 0, 'no XRANGE at all');
        for (const node of [a, b, c]) assert.equal(node.stats().rangeReads, 0);
      });
    },
  );

  it(
    'reads a commit too large to announce back once per node and delivers it exactly once',
    { timeout: 15_000 },
    async () => {
      const [a, b, c] = (await nodes({ announceMaxBytes: 512 })) as [RedisEngine, RedisEngine, RedisEngine];
      await using([a, b, c], async () => {
        const onB = heard(b, 'task:1', 40);
        const onC = heard(c, 'task:1', 40);
        const before = await redisCommandCalls(raw);
        let large = 0;
        for (let i = 0; i < 20; i++) {
          // Every other commit is over the bound; the rest travel with their announcement.
          const big = i % 2 === 0;
          if (big) large++;
          await a.append('task:1', [ev(`x${i}`, { pad: big ? 'x'.repeat(600) : 'small' }), ev(`y${i}`)]);
        }
        await Promise.all([onB.done, onC.done]);
        const after = await redisCommandCalls(raw);
        const stored = (await a.read('task:1', 0, 100)).events;
        assert.deepEqual(onB.events, stored);
        assert.deepEqual(onC.events, stored);
        // One read per large commit on each of the two other nodes; none on the node that committed.
        assert.equal((after.get('xrange') ?? 0) - (before.get('xrange') ?? 0), 2 * large);
        assert.deepEqual(
          [a, b, c].map((n) => n.stats().rangeReads),
          [0, large, large],
        );
      });
    },
  );

  it(
    'reads a commit too large to announce only on nodes with a listener that wants its stream',
    { timeout: 15_000 },
    async () => {
      const [a, b, c] = (await nodes({ announceMaxBytes: 512 })) as [RedisEngine, RedisEngine, RedisEngine];
      await using([a, b, c], async () => {
        const onB: AnyEnvelope[] = [];
        b.onAppend((_s, events) => onB.push(...events), {
          wants: (stream) => stream === 'task:1',
          skipped: () => assert.fail('B wants the stream'),
        });
        // C serves nobody: it hears what travels with the announcements and is told of the rest.
        const onC: AnyEnvelope[] = [];
        const skippedOnC: number[] = [];
        c.onAppend((_s, events) => onC.push(...events), {
          wants: () => false,
          skipped: (_s, through) => skippedOnC.push(through),
        });
        const before = await redisCommandCalls(raw);
        for (let i = 0; i < 6; i++) {
          const big = i % 2 === 0;
          await a.append('task:1', [ev(`x${i}`, { pad: big ? 'x'.repeat(600) : 'small' }), ev(`y${i}`)]);
        }
        await waitUntil(() => onB.length === 12 && skippedOnC.length === 3, 'B to hear all and C to skip 3');
        const after = await redisCommandCalls(raw);
        assert.deepEqual(
          onB.map((e) => e.seq),
          range(1, 12),
        );
        assert.deepEqual(
          onC.map((e) => e.seq),
          [3, 4, 7, 8, 11, 12],
          'C heard the small commits from their announcements',
        );
        assert.deepEqual(skippedOnC, [2, 6, 10]);
        assert.equal((after.get('xrange') ?? 0) - (before.get('xrange') ?? 0), 3, 'only B read');
        assert.deepEqual(
          [b, c].map((n) => n.stats().rangeReads),
          [3, 0],
        );
        // A subscriber arriving on C later reads the stream from the log as usual.
        assert.deepEqual(
          (await c.read('task:1', 0, 100)).events.map((e) => e.seq),
          range(1, 12),
        );
      });
    },
  );

  it('drops events that do not parse and reads the range instead, once', { timeout: 15_000 }, async () => {
    const [a, b, c] = (await nodes()) as [RedisEngine, RedisEngine, RedisEngine];
    const keys = redisKeys(a.prefix);
    await using([a, b, c], async () => {
      const onB = heard(b, 'task:1', 3);
      await a.append('task:1', [ev('1')]);
      // A commit whose announcement someone garbled on the way: the header parses, the events do not.
      await raw.xadd(keys.events('task:1'), '2-0', 'i', '2', 't', 'log:entry', 'm', '1', 'd', '{}');
      await raw.hset(keys.meta('task:1'), 'head', 2);
      await raw.publish(keys.channel, `["ghost","task:1",2,2,"${(await a.head('task:1')).epoch}"]\n[[2,`);
      await a.append('task:1', [ev('3')]);
      await onB.done;
      assert.deepEqual(
        onB.events.map((e) => e.seq),
        [1, 2, 3],
      );
      assert.equal(b.stats().rangeReads, 1);
    });
  });
});
