import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyEnvelope } from '@agentwire/protocol';
import { encodeEnvelope, frameOf } from './encode.js';

const event = (seq: number, message = `m${seq}`): AnyEnvelope =>
  ({
    stream: 'task:enc',
    seq,
    epoch: 'e1',
    id: `id-${seq}`,
    type: 'log:entry',
    time: 0,
    data: { level: 'info', message },
  }) as AnyEnvelope;

describe('native frame encoding', () => {
  it('encodes one event as an event frame and several as an events frame', () => {
    assert.deepEqual(JSON.parse(frameOf('task:enc', [event(1)])), { op: 'event', event: event(1) });
    assert.deepEqual(JSON.parse(frameOf('task:enc', [event(2), event(3)])), {
      op: 'events',
      stream: 'task:enc',
      events: [event(2), event(3)],
    });
  });

  it('builds the frame of a gapless run once and hands every caller the same string', () => {
    const run = [event(10), event(11), event(12)];
    const a = frameOf('task:enc', run);
    const b = frameOf(
      'task:enc',
      run.map((e) => ({ ...e })),
    );
    assert.equal(a, b);
    assert.equal(encodeEnvelope(event(11)), JSON.stringify(event(11)));
  });

  it('never names a run with a hole by its ends', () => {
    const whole = frameOf('task:enc', [event(20), event(21), event(22)]);
    const holed = frameOf('task:enc', [event(20), event(22)]);
    assert.notEqual(holed, whole);
    assert.deepEqual(
      (JSON.parse(holed) as { events: AnyEnvelope[] }).events.map((e) => e.seq),
      [20, 22],
    );
  });
});
