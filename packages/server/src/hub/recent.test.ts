import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { taskStream, type AnyEnvelope } from '@agentwire/protocol';
import { MemoryEngine } from '../log/memory.js';
import { SnapshotService } from '../snapshots.js';
import { Hub } from './hub.js';
import { RecentEvents } from './recent.js';
import type { Sink } from './sink.js';
import { waitUntil } from '../testing/wait.js';

const env = (stream: string, seq: number, epoch = 'e1'): AnyEnvelope =>
  ({
    stream,
    seq,
    epoch,
    id: `${stream}-${seq}`,
    type: 'log:entry',
    time: 1,
    data: { level: 'info', message: String(seq) },
  }) as AnyEnvelope;
const run = (stream: string, from: number, to: number, epoch = 'e1'): AnyEnvelope[] =>
  Array.from({ length: to - from + 1 }, (_, i) => env(stream, from + i, epoch));
const seqs = (events: readonly AnyEnvelope[] | undefined): number[] | undefined => events?.map((e) => e.seq);

describe('recent events', () => {
  it('answers from the newest events of a stream, and only when it holds the whole range', () => {
    const recent = new RecentEvents({ perStream: 10, total: 100 });
    recent.add('task:a', run('task:a', 1, 5));
    recent.add('task:a', run('task:a', 6, 15));
    assert.deepEqual(seqs(recent.read('task:a', 'e1', 7, 3)), [8, 9, 10]);
    assert.deepEqual(seqs(recent.read('task:a', 'e1', 5, 100)), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    assert.equal(recent.read('task:a', 'e1', 4, 100), undefined, 'seq 5 was evicted: read the log');
    assert.deepEqual(recent.read('task:a', 'e1', 15, 100), [], 'at the tail: nothing missed');
    assert.equal(recent.read('task:a', 'e2', 10, 100), undefined, 'another epoch');
    assert.equal(recent.read('task:b', 'e1', 0, 100), undefined, 'never heard of');
    assert.equal(recent.eventCount, 10);
  });

  it('starts over on a gap or a new epoch, so it never hands out a run with a hole', () => {
    const recent = new RecentEvents({ perStream: 100, total: 1000 });
    recent.add('task:a', run('task:a', 1, 5));
    recent.add('task:a', run('task:a', 8, 9));
    assert.equal(recent.read('task:a', 'e1', 5, 10), undefined);
    assert.deepEqual(seqs(recent.read('task:a', 'e1', 7, 10)), [8, 9]);
    recent.add('task:a', run('task:a', 1, 2, 'e2'));
    assert.equal(recent.read('task:a', 'e1', 7, 10), undefined);
    assert.deepEqual(seqs(recent.read('task:a', 'e2', 0, 10)), [1, 2]);
    assert.equal(recent.eventCount, 2);
  });

  it('keeps the total bound by forgetting the streams appended to least recently', () => {
    const recent = new RecentEvents({ perStream: 50, total: 100 });
    for (const name of ['a', 'b', 'c']) recent.add(taskStream(name), run(taskStream(name), 1, 40));
    assert.equal(recent.read('task:a', 'e1', 0, 100), undefined);
    assert.equal(recent.read('task:b', 'e1', 0, 100)?.length, 40);
    assert.equal(recent.read('task:c', 'e1', 0, 100)?.length, 40);
    recent.add('task:b', run('task:b', 41, 45));
    recent.add('task:d', run('task:d', 1, 50));
    assert.equal(recent.read('task:c', 'e1', 0, 100), undefined, 'c was appended to before b');
    assert.equal(recent.read('task:b', 'e1', 0, 100)?.length, 45);
    assert.ok(recent.eventCount <= 100);
    const single = new RecentEvents({ perStream: 500, total: 20 });
    single.add('task:x', run('task:x', 1, 30));
    assert.deepEqual(
      seqs(single.read('task:x', 'e1', 10, 100)),
      run('task:x', 11, 30).map((e) => e.seq),
    );
    assert.equal(single.eventCount, 20);
  });
});

class Collect implements Sink {
  readonly frames: string[] = [];
  bufferedBytes = 0;
  send(frame: string): void {
    this.frames.push(frame);
  }
  overflow(): void {
    throw new Error('unexpected overflow');
  }
  seqs(): number[] {
    return this.frames.flatMap((f) => {
      const op = JSON.parse(f) as { event?: AnyEnvelope; events?: AnyEnvelope[] };
      return (op.events ?? (op.event ? [op.event] : [])).map((e) => e.seq);
    });
  }
}

describe('hub catch-up from recent events', () => {
  /** Counts the log reads a hub makes, by the seq they start after. */
  function countReads(engine: MemoryEngine): number[] {
    const reads: number[] = [];
    const read = engine.read.bind(engine);
    engine.read = (stream, afterSeq, limit) => {
      reads.push(afterSeq);
      return read(stream, afterSeq, limit);
    };
    return reads;
  }

  async function appendN(engine: MemoryEngine, stream: string, from: number, to: number): Promise<void> {
    for (let i = from; i <= to; i++) {
      await engine.append(stream, [{ id: `e${i}`, type: 'log:entry', time: 1, data: { i } }]);
    }
  }

  async function resume(hub: Hub, stream: string, since: number, epoch: string): Promise<number[]> {
    const sink = new Collect();
    const sub = hub.open(stream, sink);
    await hub.start(sub, { since: { seq: since, epoch } }, () => {});
    hub.unsubscribe(sub);
    return sink.seqs();
  }

  const range = (from: number, to: number): number[] =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);

  /** A hub over a fresh memory log, closed with it after `body`. */
  async function withHub(
    options: { perStream: number; keepUnwatchedMs: number },
    body: (hub: Hub, engine: MemoryEngine) => Promise<void>,
  ): Promise<void> {
    const engine = new MemoryEngine();
    const hub = new Hub(engine, new SnapshotService(engine), 1 << 20, { total: 1000, ...options });
    try {
      await body(hub, engine);
    } finally {
      hub.close();
      await engine.close();
    }
  }

  it('resumes the same events from memory as from the log, including past what memory holds', async () => {
    // Only the newest 30 of each stream in memory: older resumes must fall back to the log.
    await withHub({ perStream: 30, keepUnwatchedMs: 60_000 }, async (hub, engine) => {
      // Someone watches while the events arrive, so the hub keeps them.
      const watcher = hub.open('task:r', new Collect());
      await appendN(engine, 'task:r', 1, 100);
      const epoch = (await engine.head('task:r')).epoch;
      const logReads = countReads(engine);
      for (const since of [0, 50, 75, 99, 100]) {
        assert.deepEqual(await resume(hub, 'task:r', since, epoch), range(since + 1, 100), `since ${since}`);
      }
      assert.deepEqual(logReads, [0, 50], 'positions within the newest 30 never touch the log');
      hub.unsubscribe(watcher);
    });
  });

  it('keeps nothing of a stream nobody watches, and keeps it for a while after the last one leaves', async () => {
    await withHub({ perStream: 100, keepUnwatchedMs: 60_000 }, async (hub, engine) => {
      await appendN(engine, 'task:idle', 1, 10);
      await appendN(engine, 'task:left', 1, 10);
      const epochIdle = (await engine.head('task:idle')).epoch;
      const epochLeft = (await engine.head('task:left')).epoch;
      // The last subscriber of task:left leaves; what comes while it is away is kept for its return.
      hub.unsubscribe(hub.open('task:left', new Collect()));
      await appendN(engine, 'task:left', 11, 20);
      const logReads = countReads(engine);
      assert.deepEqual(await resume(hub, 'task:left', 12, epochLeft), range(13, 20));
      assert.deepEqual(logReads, [], 'kept while its subscribers are away');
      assert.deepEqual(await resume(hub, 'task:idle', 5, epochIdle), range(6, 10));
      assert.deepEqual(logReads, [5], 'never watched: read from the log');
    });
  });

  it('stops keeping a stream once its grace runs out, and never serves a run that stopped short', async () => {
    await withHub({ perStream: 100, keepUnwatchedMs: 20 }, async (hub, engine) => {
      const watcher = hub.open('task:g', new Collect());
      await appendN(engine, 'task:g', 1, 10);
      const epoch = (await engine.head('task:g')).epoch;
      hub.unsubscribe(watcher);
      // The hub measures the grace on performance.now(); wait until that clock is past it.
      const left = performance.now();
      await waitUntil(() => performance.now() - left > 20, 'the grace to run out');
      // Past the grace: these are not kept, and neither is the run before them, which now ends short.
      await appendN(engine, 'task:g', 11, 15);
      const logReads = countReads(engine);
      assert.deepEqual(await resume(hub, 'task:g', 8, epoch), range(9, 15));
      assert.deepEqual(logReads, [8]);
    });
  });
});
