import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyEnvelope } from '@agentwire/protocol';
import { MemoryEngine } from '../log/memory.js';
import { SnapshotService } from '../snapshots.js';
import { Hub } from './hub.js';
import { RecentEvents } from './recent.js';
import type { Sink } from './sink.js';

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
    for (const name of ['a', 'b', 'c']) recent.add(`task:${name}`, run(`task:${name}`, 1, 40));
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
  it('resumes the same events from memory as from the log, including past what memory holds', async () => {
    const engine = new MemoryEngine();
    const snapshots = new SnapshotService(engine);
    // Only the newest 30 of each stream in memory: older resumes must fall back to the log.
    const hub = new Hub(engine, snapshots, 1 << 20, { perStream: 30, total: 1000 });
    try {
      for (let i = 1; i <= 100; i++) {
        await engine.append('task:r', [{ id: `e${i}`, type: 'log:entry', time: 1, data: { i } }]);
      }
      const epoch = (await engine.head('task:r')).epoch;
      const logReads: number[] = [];
      const read = engine.read.bind(engine);
      engine.read = (stream, afterSeq, limit) => {
        logReads.push(afterSeq);
        return read(stream, afterSeq, limit);
      };
      for (const since of [0, 50, 75, 99, 100]) {
        const sink = new Collect();
        const sub = hub.open('task:r', sink);
        await hub.start(sub, { since: { seq: since, epoch } }, () => {});
        assert.deepEqual(
          sink.seqs(),
          Array.from({ length: 100 - since }, (_, i) => since + i + 1),
          `since ${since}`,
        );
        hub.unsubscribe(sub);
      }
      assert.deepEqual(logReads, [0, 50], 'positions within the newest 30 never touch the log');
    } finally {
      hub.close();
      await engine.close();
    }
  });
});
