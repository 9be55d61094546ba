// The conformance suite every log engine runs (memory.test.ts, sqlite.test.ts, redis.test.ts).
// Not exported from index.ts: it imports node:test, which has no place in the server at runtime.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentwireError, type AnyEnvelope } from '@agentwire/protocol';
import type { AppendBatchResult, AppendInput, LogEngine } from '../log/engine.js';
import { waitUntil } from './wait.js';

/**
 * Resolves once the wall clock has left the millisecond it is called in. The engines stamp a
 * stream's updated-at from Date.now() in milliseconds, so a write after this sorts after every
 * write that finished before it.
 */
async function nextMillisecond(): Promise<void> {
  const start = Date.now();
  await waitUntil(() => Date.now() > start, 'the clock to pass a millisecond', 1_000, 1);
}

export interface EngineSuiteOptions {
  name: string;
  /** A fresh, empty engine with its own storage (and so its own epoch). */
  create: () => LogEngine | Promise<LogEngine>;
  /** Closes `engine` and opens the same storage again; only for engines that persist. */
  reopen?: (engine: LogEngine) => LogEngine | Promise<LogEngine>;
}

const T0 = 1_700_000_000_000;

function ev(id: string, data: unknown = { id }, time = T0): AppendInput {
  return { id, type: 'log:entry', time, data };
}

function seqs(events: { seq: number }[]): number[] {
  return events.map((e) => e.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

function isAgentwireError(code: string) {
  return (err: unknown): true => {
    assert.ok(err instanceof AgentwireError, `expected an AgentwireError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

export function runEngineSuite({ name, create, reopen }: EngineSuiteOptions): void {
  /** Runs `fn` against a fresh engine and always closes whichever engine it ends with. */
  async function withEngine(fn: (box: { engine: LogEngine }) => Promise<void>): Promise<void> {
    const box = { engine: await create() };
    try {
      await fn(box);
    } finally {
      await box.engine.close();
    }
  }

  describe(`log engine conformance: ${name}`, () => {
    describe('sequencing', () => {
      it('numbers the first event 1 and continues without gaps across batches', () =>
        withEngine(async ({ engine }) => {
          const a = await engine.append('task:1', [ev('a'), ev('b'), ev('c')]);
          const b = await engine.append('task:1', [ev('d')]);
          const c = await engine.append('task:1', [ev('e'), ev('f')]);
          assert.deepEqual(
            [a, b, c].flatMap((r) => r.results.map((x) => x.seq)),
            [1, 2, 3, 4, 5, 6],
          );
          const read = await engine.read('task:1', 0, 100);
          assert.deepEqual(seqs(read.events), range(1, 6));
          assert.deepEqual(
            read.events.map((e) => e.id),
            ['a', 'b', 'c', 'd', 'e', 'f'],
          );
          assert.equal(read.head, 6);
          assert.equal(read.first, 1);
        }));

      it('assigns seqs in call order to 50 appends issued without awaiting', () =>
        withEngine(async ({ engine }) => {
          const pending: Promise<AppendBatchResult>[] = [];
          const expectedIds: string[] = [];
          for (let i = 0; i < 50; i++) {
            const batch = i % 3 === 0 ? [ev(`e${i}a`), ev(`e${i}b`)] : [ev(`e${i}`)];
            expectedIds.push(...batch.map((x) => x.id));
            pending.push(engine.append('task:1', batch));
          }
          const results = await Promise.all(pending);
          const got = results.flatMap((r) => r.results);
          assert.deepEqual(
            got.map((r) => r.id),
            expectedIds,
          );
          assert.deepEqual(
            got.map((r) => r.seq),
            range(1, expectedIds.length),
          );
          assert.ok(got.every((r) => !r.duplicate));
          const read = await engine.read('task:1', 0, 1000);
          assert.deepEqual(
            read.events.map((e) => e.id),
            expectedIds,
          );
          assert.deepEqual(seqs(read.events), range(1, expectedIds.length));
        }));

      it('keeps streams independent', () =>
        withEngine(async ({ engine }) => {
          const pending: Promise<AppendBatchResult>[] = [];
          for (let i = 0; i < 10; i++) {
            pending.push(engine.append('task:a', [ev(`same-${i}`, { s: 'a', i })]));
            if (i % 2 === 0) pending.push(engine.append('task:b', [ev(`same-${i}`, { s: 'b', i })]));
          }
          const results = await Promise.all(pending);
          assert.deepEqual(
            results.filter((r) => r.stream === 'task:a').map((r) => r.results[0]?.seq),
            range(1, 10),
          );
          assert.deepEqual(
            results.filter((r) => r.stream === 'task:b').map((r) => r.results[0]?.seq),
            range(1, 5),
          );
          assert.ok(results.every((r) => r.results.every((x) => !x.duplicate)));
          assert.equal((await engine.head('task:a')).head, 10);
          assert.equal((await engine.head('task:b')).head, 5);
          const b = await engine.read('task:b', 0, 100);
          assert.ok(b.events.every((e) => (e.data as { s: string }).s === 'b'));
        }));

      it('returns envelopes carrying exactly what was appended', () =>
        withEngine(async ({ engine }) => {
          const input = {
            id: 'evt-1',
            type: 'tool:executing',
            time: T0 + 42,
            data: { tool: 'grep', args: [1, 'x'] },
          };
          const result = await engine.append('task:7', [input]);
          const expected = { stream: 'task:7', seq: 1, epoch: result.epoch, ...input };
          assert.deepEqual(result.appended, [expected]);
          assert.equal(result.stream, 'task:7');
          assert.deepEqual(result.results, [{ id: 'evt-1', seq: 1, duplicate: false }]);
          assert.deepEqual((await engine.read('task:7', 0, 10)).events, [expected]);
          assert.equal((await engine.head('task:7')).epoch, result.epoch);
        }));

      it('stores and returns the trace context, and no trace field for an untraced event', () =>
        withEngine(async ({ engine }) => {
          const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
          const inputs: AppendInput[] = [
            { ...ev('t1'), trace: { traceparent } },
            { ...ev('t2'), trace: { traceparent, tracestate: 'congo=t61rcWkgMzE, rojo=00f067aa0ba902b7' } },
            ev('t3'),
            // Owned data takes the other path through the engines (no copy).
            { ...ev('t4'), json: '{"id":"t4"}', trace: { traceparent } },
          ];
          const result = await engine.append('task:trace', inputs);
          const read = await engine.read('task:trace', 0, 10);
          for (const events of [result.appended, read.events]) {
            assert.deepEqual(
              events.map((e) => e.trace),
              inputs.map((i) => i.trace),
            );
            assert.equal('trace' in (events[2] as object), false);
          }
        }));

      it('accepts an empty batch without creating the stream', () =>
        withEngine(async ({ engine }) => {
          const result = await engine.append('task:empty', []);
          assert.deepEqual(result.results, []);
          assert.deepEqual(result.appended, []);
          assert.equal((await engine.head('task:empty')).head, 0);
          assert.deepEqual(await engine.listStreams({ limit: 10 }), []);
        }));

      it('refuses data with no JSON form without affecting appends around it', () =>
        withEngine(async ({ engine }) => {
          const cyclic: Record<string, unknown> = {};
          cyclic.self = cyclic;
          const before = engine.append('task:1', [ev('ok-1')]);
          const bad1 = engine.append('task:1', [ev('bad-1', { n: 1n })]);
          const bad2 = engine.append('task:1', [ev('ok-x'), ev('bad-2', cyclic)]);
          const after = engine.append('task:1', [ev('ok-2')]);
          await assert.rejects(bad1, isAgentwireError('invalid_payload'));
          await assert.rejects(bad2, isAgentwireError('invalid_payload'));
          assert.equal((await before).results[0]?.seq, 1);
          assert.equal((await after).results[0]?.seq, 2);
          const read = await engine.read('task:1', 0, 10);
          assert.deepEqual(
            read.events.map((e) => e.id),
            ['ok-1', 'ok-2'],
          );
        }));
    });

    describe('idempotency', () => {
      it('stores an id once and reports the original seq', () =>
        withEngine(async ({ engine }) => {
          await engine.append('task:1', [ev('a'), ev('b')]);
          const again = await engine.append('task:1', [ev('b')]);
          assert.deepEqual(again.results, [{ id: 'b', seq: 2, duplicate: true }]);
          assert.deepEqual(again.appended, []);
          const mixed = await engine.append('task:1', [ev('c'), ev('a')]);
          assert.deepEqual(mixed.results, [
            { id: 'c', seq: 3, duplicate: false },
            { id: 'a', seq: 1, duplicate: true },
          ]);
          assert.deepEqual(seqs(mixed.appended), [3]);
          const read = await engine.read('task:1', 0, 100);
          assert.deepEqual(
            read.events.map((e) => e.id),
            ['a', 'b', 'c'],
          );
          assert.equal(read.head, 3);
        }));

      it('dedupes within one batch', () =>
        withEngine(async ({ engine }) => {
          const result = await engine.append('task:1', [ev('x'), ev('y'), ev('x', { second: true })]);
          assert.deepEqual(result.results, [
            { id: 'x', seq: 1, duplicate: false },
            { id: 'y', seq: 2, duplicate: false },
            { id: 'x', seq: 1, duplicate: true },
          ]);
          assert.deepEqual(seqs(result.appended), [1, 2]);
          assert.equal((await engine.head('task:1')).head, 2);
        }));

      it('dedupes across appends issued in the same turn', () =>
        withEngine(async ({ engine }) => {
          const [first, second] = await Promise.all([
            engine.append('task:1', [ev('x')]),
            engine.append('task:1', [ev('x'), ev('z')]),
          ]);
          assert.deepEqual(first.results, [{ id: 'x', seq: 1, duplicate: false }]);
          assert.deepEqual(second.results, [
            { id: 'x', seq: 1, duplicate: true },
            { id: 'z', seq: 2, duplicate: false },
          ]);
          assert.equal((await engine.head('task:1')).head, 2);
        }));

      it('keeps the first copy of a duplicated id', () =>
        withEngine(async ({ engine }) => {
          await engine.append('task:1', [ev('x', { v: 'original' })]);
          await engine.append('task:1', [ev('x', { v: 'retry' }, T0 + 1)]);
          const [only] = (await engine.read('task:1', 0, 10)).events;
          assert.deepEqual(only?.data, { v: 'original' });
          assert.equal(only?.time, T0);
        }));

      it('treats the same id in two streams as two events', () =>
        withEngine(async ({ engine }) => {
          const a = await engine.append('task:a', [ev('shared')]);
          const b = await engine.append('task:b', [ev('shared')]);
          assert.deepEqual(a.results, [{ id: 'shared', seq: 1, duplicate: false }]);
          assert.deepEqual(b.results, [{ id: 'shared', seq: 1, duplicate: false }]);
        }));
    });

    describe('reading', () => {
      it('reads the events after a seq, oldest first, at most limit', () =>
        withEngine(async ({ engine }) => {
          await engine.append(
            'task:1',
            range(1, 10).map((i) => ev(`e${i}`, { i })),
          );
          const page1 = await engine.read('task:1', 0, 3);
          assert.deepEqual(seqs(page1.events), [1, 2, 3]);
          assert.equal(page1.head, 10);
          assert.equal(page1.first, 1);
          assert.deepEqual(seqs((await engine.read('task:1', 3, 3)).events), [4, 5, 6]);
          assert.deepEqual(seqs((await engine.read('task:1', 8, 100)).events), [9, 10]);
          assert.deepEqual((await engine.read('task:1', 10, 5)).events, []);
          assert.deepEqual((await engine.read('task:1', 50, 5)).events, []);
          assert.deepEqual((await engine.read('task:1', 0, 0)).events, []);
          assert.deepEqual(seqs((await engine.read('task:1', -5, 2)).events), [1, 2]);
          assert.deepEqual(
            (await engine.read('task:1', 4, 2)).events.map((e) => e.data),
            [{ i: 5 }, { i: 6 }],
          );
        }));

      it('reports a missing stream as empty, in the current epoch, without creating it', () =>
        withEngine(async ({ engine }) => {
          const existing = await engine.append('task:real', [ev('a')]);
          const ghost = await engine.head('task:ghost');
          assert.deepEqual(ghost, { stream: 'task:ghost', epoch: existing.epoch, head: 0, first: 1 });
          const read = await engine.read('task:ghost', 0, 10);
          assert.deepEqual(read, {
            stream: 'task:ghost',
            epoch: existing.epoch,
            head: 0,
            first: 1,
            events: [],
          });
          assert.deepEqual(
            (await engine.listStreams({ limit: 10 })).map((s) => s.stream),
            ['task:real'],
          );
          // The epoch promised to a subscriber of an empty stream is the one its first event gets.
          const born = await engine.append('task:ghost', [ev('b')]);
          assert.equal(born.epoch, ghost.epoch);
        }));
    });

    describe('listeners', () => {
      it('hears each commit once with exactly the new events, in order', () =>
        withEngine(async ({ engine }) => {
          const heard: { stream: string; events: AnyEnvelope[] }[] = [];
          engine.onAppend((stream, events) => heard.push({ stream, events }));
          const r1 = await engine.append('task:1', [ev('a'), ev('b')]);
          const r2 = await engine.append('task:1', [ev('c')]);
          assert.equal(heard.length, 2);
          assert.deepEqual(heard[0], { stream: 'task:1', events: r1.appended });
          assert.deepEqual(heard[1], { stream: 'task:1', events: r2.appended });
          assert.deepEqual(seqs(heard.flatMap((h) => h.events)), [1, 2, 3]);
        }));

      it('is never called for duplicates', () =>
        withEngine(async ({ engine }) => {
          await engine.append('task:1', [ev('a')]);
          const heard: number[][] = [];
          engine.onAppend((_stream, events) => heard.push(seqs(events)));
          await engine.append('task:1', [ev('a')]);
          await Promise.all([engine.append('task:1', [ev('a')]), engine.append('task:1', [ev('a')])]);
          assert.deepEqual(heard, []);
          await engine.append('task:1', [ev('a'), ev('b'), ev('b')]);
          assert.deepEqual(heard, [[2]]);
        }));

      it('hears concurrent appends in seq order per stream', () =>
        withEngine(async ({ engine }) => {
          const heard = new Map<string, number[]>();
          engine.onAppend((stream, events) =>
            heard.set(stream, [...(heard.get(stream) ?? []), ...seqs(events)]),
          );
          const pending: Promise<unknown>[] = [];
          for (let i = 0; i < 30; i++) {
            const stream = i % 3 === 0 ? 'task:b' : 'task:a';
            pending.push(engine.append(stream, i % 4 === 0 ? [ev(`x${i}`), ev(`y${i}`)] : [ev(`x${i}`)]));
          }
          await Promise.all(pending);
          for (const stream of ['task:a', 'task:b']) {
            const head = (await engine.head(stream)).head;
            assert.deepEqual(heard.get(stream), range(1, head), stream);
          }
        }));

      it('stops after unsubscribing', () =>
        withEngine(async ({ engine }) => {
          let calls = 0;
          const off = engine.onAppend(() => calls++);
          await engine.append('task:1', [ev('a')]);
          off();
          await engine.append('task:1', [ev('b')]);
          assert.equal(calls, 1);
        }));

      it('keeps delivering when a listener throws', () =>
        withEngine(async ({ engine }) => {
          const warnings: Error[] = [];
          const onWarning = (w: Error): void => void warnings.push(w);
          process.on('warning', onWarning);
          try {
            let thrown = false;
            engine.onAppend(() => {
              if (thrown) return;
              thrown = true;
              const bug = new Error('listener bug (expected by this test)');
              bug.stack = bug.message; // one line in the test output, not a trace
              throw bug;
            });
            const heard: number[] = [];
            engine.onAppend((_s, events) => heard.push(...seqs(events)));
            const r = await engine.append('task:1', [ev('a')]);
            assert.equal(r.results[0]?.seq, 1);
            await engine.append('task:1', [ev('b')]);
            assert.deepEqual(heard, [1, 2]);
            await waitUntil(
              () => warnings.some((w) => w.message.includes('listener bug')),
              'the listener error to be reported as a process warning',
            );
          } finally {
            process.off('warning', onWarning);
          }
        }));

      it('lets a listener append without breaking order', () =>
        withEngine(async ({ engine }) => {
          const heard: string[] = [];
          const echoes: Promise<AppendBatchResult>[] = [];
          engine.onAppend((stream, events) => {
            heard.push(...events.map((e) => `${stream}#${e.seq}`));
            if (stream === 'task:1') {
              echoes.push(
                engine.append(
                  'task:echo',
                  events.map((e) => ev(`echo-${e.id}`)),
                ),
              );
            }
          });
          await Promise.all([
            engine.append('task:1', [ev('a')]),
            engine.append('task:1', [ev('b'), ev('c')]),
          ]);
          assert.equal(echoes.length, 2);
          await Promise.all(echoes);
          assert.deepEqual(
            heard.filter((h) => h.startsWith('task:1')),
            ['task:1#1', 'task:1#2', 'task:1#3'],
          );
          assert.deepEqual(
            heard.filter((h) => h.startsWith('task:echo')),
            ['task:echo#1', 'task:echo#2', 'task:echo#3'],
          );
        }));
    });

    describe('durable before visible', () => {
      it('makes events readable before the append resolves or a listener hears them', () =>
        withEngine(async ({ engine }) => {
          const readsFromListener: Promise<number[]>[] = [];
          engine.onAppend((stream, events) => {
            readsFromListener.push(
              engine.read(stream, (events[0]?.seq ?? 1) - 1, 100).then((r) => seqs(r.events)),
            );
          });
          const pending = range(1, 20).map((i) =>
            engine.append('task:1', [ev(`e${i}`)]).then(async (result) => {
              // Read in the resolution turn itself: nothing may still be in flight.
              const read = await engine.read('task:1', 0, 100);
              const seq = result.results[0]?.seq ?? -1;
              assert.ok(
                read.events.some((e) => e.seq === seq && e.id === `e${i}`),
                `event ${seq} readable when acknowledged`,
              );
              assert.ok(read.head >= seq);
            }),
          );
          await Promise.all(pending);
          const fromListeners = await Promise.all(readsFromListener);
          assert.equal(fromListeners.length, 20);
          fromListeners.forEach((got, i) =>
            assert.ok(got.includes(i + 1), `listener ${i + 1} could read its event`),
          );
        }));

      it('gives a new engine a new epoch', async () => {
        const a = await create();
        const b = await create();
        try {
          const ra = await a.append('task:1', [ev('x')]);
          const rb = await b.append('task:1', [ev('x')]);
          assert.notEqual(ra.epoch, rb.epoch);
          assert.ok(ra.epoch.length > 0 && ra.epoch.length <= 64);
        } finally {
          await a.close();
          await b.close();
        }
      });

      if (reopen) {
        it('keeps events, heads, checkpoints and the epoch across a reopen', () =>
          withEngine(async (box) => {
            const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
            const first = await box.engine.append(
              'task:1',
              range(1, 5).map((i) => ({ ...ev(`e${i}`, { i }), ...(i === 4 && { trace: { traceparent } }) })),
            );
            await box.engine.append('task:2', [ev('other')]);
            await box.engine.trim('task:1', 2);
            await box.engine.putCheckpoint('task:1', { seq: 4, state: { stage: 'review', n: [1, 2] } });
            const before = await box.engine.read('task:1', 0, 100);
            const listedBefore = await box.engine.listStreams({ limit: 10 });
            box.engine = await reopen(box.engine);
            const after = await box.engine.read('task:1', 0, 100);
            assert.deepEqual(after, before);
            assert.deepEqual(after.events[1]?.trace, { traceparent });
            assert.equal(after.epoch, first.epoch);
            assert.equal(after.first, 3);
            assert.deepEqual(await box.engine.listStreams({ limit: 10 }), listedBefore);
            assert.deepEqual(await box.engine.getCheckpoint('task:1'), {
              seq: 4,
              state: { stage: 'review', n: [1, 2] },
            });
            assert.equal((await box.engine.head('task:never')).epoch, first.epoch);
            const next = await box.engine.append('task:1', [ev('e6'), ev('e1')]);
            assert.deepEqual(next.results, [
              { id: 'e6', seq: 6, duplicate: false },
              // e1 was trimmed: the dedupe window is the retained history.
              { id: 'e1', seq: 7, duplicate: false },
            ]);
            assert.equal(next.epoch, first.epoch);
            const dup = await box.engine.append('task:1', [ev('e4')]);
            assert.deepEqual(dup.results, [{ id: 'e4', seq: 4, duplicate: true }]);
          }));

        it('commits appends issued just before close', () =>
          withEngine(async (box) => {
            const pending = range(1, 25).map((i) => box.engine.append('task:1', [ev(`e${i}`)]));
            const settled = Promise.all(pending);
            box.engine = await reopen(box.engine);
            const results = await settled;
            assert.deepEqual(
              results.map((r) => r.results[0]?.seq),
              range(1, 25),
            );
            assert.deepEqual(seqs((await box.engine.read('task:1', 0, 100)).events), range(1, 25));
          }));
      }
    });

    describe('retention', () => {
      it('plans by count and trims to it', () =>
        withEngine(async ({ engine }) => {
          await engine.append(
            'task:big',
            range(1, 10).map((i) => ev(`e${i}`)),
          );
          await engine.append(
            'task:small',
            range(1, 3).map((i) => ev(`e${i}`)),
          );
          const plan = await engine.retentionPlan({ maxEvents: 5 }, T0);
          assert.deepEqual(plan, [{ stream: 'task:big', throughSeq: 5 }]);
          assert.equal(await engine.trim('task:big', 5), 5);
          const read = await engine.read('task:big', 0, 100);
          assert.deepEqual(seqs(read.events), range(6, 10));
          assert.equal(read.first, 6);
          assert.equal(read.head, 10);
          assert.deepEqual(await engine.retentionPlan({ maxEvents: 5 }, T0), []);
          assert.equal((await engine.append('task:big', [ev('e11')])).results[0]?.seq, 11);
          assert.deepEqual(await engine.retentionPlan({ maxEvents: 5 }, T0), [
            { stream: 'task:big', throughSeq: 6 },
          ]);
        }));

      it('plans by age, dropping only the old prefix', () =>
        withEngine(async ({ engine }) => {
          await engine.append(
            'task:ordered',
            [1000, 2000, 3000, 4000].map((t, i) => ev(`o${i}`, {}, T0 + t)),
          );
          await engine.append(
            'task:jumbled',
            [1000, 9000, 1000].map((t, i) => ev(`j${i}`, {}, T0 + t)),
          );
          await engine.append(
            'task:stale',
            [100, 200].map((t, i) => ev(`s${i}`, {}, T0 + t)),
          );
          await engine.append('task:fresh', [ev('f', {}, T0 + 8000)]);
          const plan = await engine.retentionPlan({ maxAgeMs: 2500 }, T0 + 5000);
          const byStream = Object.fromEntries(plan.map((p) => [p.stream, p.throughSeq]));
          // jumbled: seq 3 is old but sits behind a young event, and only a prefix can go.
          assert.deepEqual(byStream, { 'task:ordered': 2, 'task:jumbled': 1, 'task:stale': 2 });
          assert.equal(await engine.trim('task:stale', 2), 2);
          const stale = await engine.head('task:stale');
          assert.deepEqual([stale.first, stale.head], [3, 2]);
          const plan2 = await engine.retentionPlan({ maxAgeMs: 2500 }, T0 + 5000);
          assert.ok(!plan2.some((p) => p.stream === 'task:stale'), 'an emptied stream is not planned again');
        }));

      it('takes the larger cut when count and age both apply', () =>
        withEngine(async ({ engine }) => {
          await engine.append(
            'task:1',
            range(1, 10).map((i) => ev(`e${i}`, {}, T0 + i * 1000)),
          );
          const now = T0 + 10_000;
          assert.deepEqual(await engine.retentionPlan({ maxEvents: 8, maxAgeMs: 6500 }, now), [
            { stream: 'task:1', throughSeq: 3 },
          ]);
          assert.deepEqual(await engine.retentionPlan({ maxEvents: 4, maxAgeMs: 6500 }, now), [
            { stream: 'task:1', throughSeq: 6 },
          ]);
          assert.deepEqual(await engine.retentionPlan({}, now), []);
          assert.deepEqual(await engine.retentionPlan({ maxEvents: 0, maxAgeMs: 0 }, now), []);
        }));

      it('trim moves first, clamps to the head and is idempotent', () =>
        withEngine(async ({ engine }) => {
          await engine.append(
            'task:1',
            range(1, 4).map((i) => ev(`e${i}`)),
          );
          assert.equal(await engine.trim('task:1', 2), 2);
          assert.equal(await engine.trim('task:1', 2), 0);
          assert.equal(await engine.trim('task:1', 1), 0);
          assert.deepEqual(seqs((await engine.read('task:1', 0, 10)).events), [3, 4]);
          assert.equal(await engine.trim('task:1', 100), 2);
          const head = await engine.head('task:1');
          assert.deepEqual([head.first, head.head], [5, 4]);
          assert.deepEqual((await engine.read('task:1', 0, 10)).events, []);
          const next = await engine.append('task:1', [ev('e5')]);
          assert.equal(next.results[0]?.seq, 5);
          assert.equal(next.epoch, head.epoch, 'trimming is retention, not history loss');
          assert.deepEqual(seqs((await engine.read('task:1', 0, 10)).events), [5]);
          assert.equal(await engine.trim('task:1', Number.NaN), 0);
          assert.equal((await engine.head('task:1')).first, 5);
          assert.equal(await engine.trim('task:missing', 10), 0);
          assert.equal((await engine.head('task:missing')).head, 0);
        }));
    });

    describe('checkpoints', () => {
      it('round-trips, overwrites and is per stream', () =>
        withEngine(async ({ engine }) => {
          assert.equal(await engine.getCheckpoint('task:1'), undefined);
          const state = {
            stage: 'build',
            agents: { a1: { status: 'running' } },
            progress: 0.5,
            notes: ['ü', null],
          };
          await engine.putCheckpoint('task:1', { seq: 10, state });
          assert.deepEqual(await engine.getCheckpoint('task:1'), { seq: 10, state });
          await engine.putCheckpoint('task:1', { seq: 20, state: { stage: 'done' } });
          assert.deepEqual(await engine.getCheckpoint('task:1'), { seq: 20, state: { stage: 'done' } });
          assert.equal(await engine.getCheckpoint('task:2'), undefined);
          const got = await engine.getCheckpoint('task:1');
          (got?.state as { stage: string }).stage = 'mutated by a reader';
          assert.deepEqual(await engine.getCheckpoint('task:1'), { seq: 20, state: { stage: 'done' } });
        }));
    });

    describe('listing streams', () => {
      it('lists by prefix, most recently updated first, up to limit', () =>
        withEngine(async ({ engine }) => {
          // Updated-at has millisecond resolution: space the writes so the order is unambiguous.
          await engine.append('task:a', [ev('1')]);
          await nextMillisecond();
          await engine.append('task:b', [ev('1'), ev('2')]);
          await nextMillisecond();
          await engine.append('project:x', [ev('1')]);
          await nextMillisecond();
          await engine.append('task:a', [ev('2'), ev('3'), ev('4')]);
          const all = await engine.listStreams({ limit: 10 });
          assert.deepEqual(
            all.map((s) => s.stream),
            ['task:a', 'project:x', 'task:b'],
          );
          const a = all[0];
          assert.ok(a);
          assert.deepEqual([a.head, a.first], [4, 1]);
          assert.ok(a.createdAt < a.updatedAt, 'created_at is kept when the stream is updated');
          assert.equal(a.epoch, (await engine.head('task:a')).epoch);
          assert.deepEqual(
            (await engine.listStreams({ prefix: 'task:', limit: 10 })).map((s) => s.stream),
            ['task:a', 'task:b'],
          );
          assert.deepEqual(
            (await engine.listStreams({ prefix: 'task:', limit: 1 })).map((s) => s.stream),
            ['task:a'],
          );
          assert.deepEqual(await engine.listStreams({ prefix: 'nothing:', limit: 10 }), []);
          assert.deepEqual(await engine.listStreams({ limit: 0 }), []);
          assert.deepEqual(await engine.listStreams({ limit: Number.NaN }), []);
          // A duplicate is not activity (were it, task:b would now be the latest).
          await nextMillisecond();
          await engine.append('task:b', [ev('1')]);
          assert.equal((await engine.listStreams({ limit: 1 }))[0]?.stream, 'task:a');
        }));

      it('treats the prefix literally', () =>
        withEngine(async ({ engine }) => {
          await engine.append('task:a_b', [ev('1')]);
          await engine.append('task:aXb', [ev('1')]);
          await engine.append('task:a.b', [ev('1')]);
          // `_` and `.` are wildcards in LIKE and regular expressions; here they are just characters.
          assert.deepEqual(
            (await engine.listStreams({ prefix: 'task:a_', limit: 10 })).map((s) => s.stream),
            ['task:a_b'],
          );
          assert.deepEqual(
            (await engine.listStreams({ prefix: 'task:a.', limit: 10 })).map((s) => s.stream),
            ['task:a.b'],
          );
        }));
    });

    describe('payloads', () => {
      it('round-trips a large payload', () =>
        withEngine(async ({ engine }) => {
          const data = {
            text: 'x'.repeat(2 * 1024 * 1024),
            rows: Array.from({ length: 10_000 }, (_, i) => ({ i, sq: i * i, label: `row ${i}` })),
            nested: { a: { b: { c: { d: [1, [2, [3, [4]]]] } } } },
          };
          const result = await engine.append('task:1', [ev('big', data)]);
          assert.deepEqual(result.appended[0]?.data, data);
          assert.deepEqual((await engine.read('task:1', 0, 1)).events[0]?.data, data);
        }));

      it('round-trips any unicode', () =>
        withEngine(async ({ engine }) => {
          const data = {
            emoji: '👩‍💻🚀🏳️‍🌈',
            cjk: '漢字かなカナ한국어',
            rtl: 'مرحبا שלום',
            combining: 'e\u0301 n\u0303',
            controls: '\u0000\u0001\t\n\r\u2028\u2029',
            loneSurrogate: '\ud800 and \udfff',
            quotes: `"'\\\`{}[]`,
            'ключ 🔑': 'value',
          };
          await engine.append('task:1', [ev('u', data)]);
          assert.deepEqual((await engine.read('task:1', 0, 1)).events[0]?.data, data);
        }));

      it('stores the JSON form of the data', () =>
        withEngine(async ({ engine }) => {
          const data: Record<string, unknown> = { keep: 1, gone: undefined, when: new Date(T0) };
          const result = await engine.append('task:1', [
            ev('a', data),
            { ...ev('b'), data: undefined },
            ev('c', null),
          ]);
          data.keep = 'mutated after append';
          const expected = [{ keep: 1, when: new Date(T0).toISOString() }, null, null];
          assert.deepEqual(
            result.appended.map((e) => e.data),
            expected,
          );
          assert.deepEqual(
            (await engine.read('task:1', 0, 10)).events.map((e) => e.data),
            expected,
          );
        }));

      it('stores pre-encoded text as given and hands out the owned data without copying it', () =>
        withEngine(async ({ engine }) => {
          const json = '{"text":"from the wire","n":[1,2,3]}';
          const data = JSON.parse(json) as unknown;
          const result = await engine.append('task:1', [{ ...ev('pre'), data, json }, ev('plain', { n: 4 })]);
          assert.equal(result.appended[0]?.data, data, 'the owned value itself');
          assert.deepEqual(result.appended[1]?.data, { n: 4 });
          assert.deepEqual(
            (await engine.read('task:1', 0, 10)).events.map((e) => e.data),
            [{ text: 'from the wire', n: [1, 2, 3] }, { n: 4 }],
          );
        }));
    });

    describe('closing', () => {
      it('rejects every operation after close with an AgentwireError', async () => {
        const engine = await create();
        await engine.append('task:1', [ev('a')]);
        await engine.close();
        await engine.close();
        const unavailable = isAgentwireError('unavailable');
        await assert.rejects(engine.append('task:1', [ev('b')]), unavailable);
        await assert.rejects(engine.read('task:1', 0, 10), unavailable);
        await assert.rejects(engine.head('task:1'), unavailable);
        await assert.rejects(engine.listStreams({ limit: 10 }), unavailable);
        await assert.rejects(engine.retentionPlan({ maxEvents: 1 }, T0), unavailable);
        await assert.rejects(engine.trim('task:1', 1), unavailable);
        await assert.rejects(engine.putCheckpoint('task:1', { seq: 1, state: {} }), unavailable);
        await assert.rejects(engine.getCheckpoint('task:1'), unavailable);
      });

      it('settles appends issued before close', async () => {
        const engine = await create();
        const pending = engine.append('task:1', [ev('a'), ev('b')]);
        await engine.close();
        const result = await pending;
        assert.deepEqual(seqs(result.appended), [1, 2]);
      });
    });
  });
}
