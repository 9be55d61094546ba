import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentwireError, connect, type Publisher, type PublishResult } from '@agentwire/agent';
import { reduceTaskEvents, type AnyEnvelope, type AnyEventInput } from '@agentwire/protocol';
import { waitFor } from '../testing/index.js';
import { startDemoWorkload } from './index.js';

/** A log that can be taken down: while `down`, every publish fails the way a restarting gateway does. */
class FlakyLog implements Publisher {
  down = false;
  refused = 0;
  readonly envelopes: AnyEnvelope[] = [];
  private readonly seen = new Map<string, number>();

  async publish(stream: string, events: AnyEventInput[]): Promise<PublishResult> {
    if (this.down) {
      this.refused++;
      throw new AgentwireError('unavailable', 'The gateway is restarting.');
    }
    const results = events.map((e) => {
      const prior = this.seen.get(e.id!);
      if (prior !== undefined) return { id: e.id!, seq: prior, duplicate: true };
      const seq = this.envelopes.filter((x) => x.stream === stream).length + 1;
      this.seen.set(e.id!, seq);
      this.envelopes.push({
        stream,
        seq,
        epoch: 'e',
        id: e.id!,
        time: Date.now(),
        type: e.type,
        data: e.data,
      } as AnyEnvelope);
      return { id: e.id!, seq, duplicate: false };
    });
    return { stream, epoch: 'e', results };
  }
}

function watchUnhandled(): { unhandled: unknown[]; done(): void } {
  const unhandled: unknown[] = [];
  const on = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', on);
  return { unhandled, done: () => process.off('unhandledRejection', on) };
}

test('a brief outage is ridden out by retries: tasks carry on and nothing is lost or doubled', async () => {
  const watch = watchUnhandled();
  const log = new FlakyLog();
  const aw = connect({ publisher: log, retry: { attempts: 30, baseDelayMs: 10, maxDelayMs: 40 } });
  const demo = startDemoWorkload(aw, { concurrency: 3, speed: 25 });
  const started = () => new Set(log.envelopes.map((e) => e.stream)).size;
  await waitFor(() => started() >= 3, 'three tasks under way before the outage');
  log.down = true;
  // Down long enough that publishes are refused again and again, so retries carry them across.
  await waitFor(() => log.refused >= 10, 'publishes refused during the outage');
  log.down = false;
  const completedAfterOutage = () => {
    const streams = new Set(log.envelopes.map((e) => e.stream));
    return [...streams].filter(
      (s) => reduceTaskEvents(log.envelopes.filter((e) => e.stream === s))!.status === 'completed',
    ).length;
  };
  try {
    await waitFor(() => completedAfterOutage() >= 3, 'three completed tasks after the outage', 90_000, 100);
  } finally {
    await demo.stop();
  }
  await aw.close();
  watch.done();

  assert.ok(log.refused > 0, 'the outage was hit');
  assert.deepEqual(watch.unhandled, []);
  const streams = new Set(log.envelopes.map((e) => e.stream));
  const states = [...streams].map((s) => reduceTaskEvents(log.envelopes.filter((e) => e.stream === s))!);
  assert.ok(states.every((s) => ['completed', 'failed', 'cancelled'].includes(s.status)));
  assert.ok(states.filter((s) => s.status === 'completed').length >= 3);
  for (const s of streams) {
    const seqs = log.envelopes.filter((e) => e.stream === s).map((e) => e.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
    );
  }
});

test('a gateway that stays down: the demo logs, moves on, never rejects unhandled, and still stops at once', async () => {
  const watch = watchUnhandled();
  const log = new FlakyLog();
  log.down = true;
  const lines: string[] = [];
  const aw = connect({ publisher: log, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
  const demo = startDemoWorkload(aw, { concurrency: 2, speed: 25, logger: (m) => lines.push(m) });
  const loggedRefusal = () =>
    lines.some((l) => l.startsWith('! could not start') && l.includes('unavailable'));
  await waitFor(loggedRefusal, 'the demo to log a start it could not make');
  const stopping = Date.now();
  await demo.stop();
  const stopMs = Date.now() - stopping;
  await aw.close();
  watch.done();

  assert.deepEqual(watch.unhandled, []);
  assert.ok(stopMs < 200, `stop() took ${stopMs} ms`);
  assert.ok(loggedRefusal(), lines.join('\n'));
  assert.equal(log.envelopes.length, 0);
});
