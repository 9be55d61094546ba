import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AnyEnvelope } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';
import { WsProbe } from '../testing/ws-probe.js';

/** Bytes the probe's socket has read so far: what the transport really sent. */
const bytesRead = (probe: WsProbe) => (probe.ws as unknown as { _socket: Socket })._socket.bytesRead;

/** Text of message `m1` as a client folds it, checking each event follows on (merged ones from fromSeq). */
function follow(events: readonly AnyEnvelope[], from: number): { text: string; seq: number } {
  let at = from;
  let text = '';
  for (const e of events) {
    assert.equal(e.fromSeq ?? e.seq, at + 1);
    at = e.seq;
    if (e.type === 'message:delta') text += e.data.delta;
  }
  return { text, seq: at };
}

describe('a late joiner on a half-finished 2,000-token answer', () => {
  let gw: Gateway;
  const stream = 'task:late-join';
  let soFar = '';
  let head = 0;
  let wsUrl = '';

  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent' });
    wsUrl = `${gw.url.replace('http', 'ws')}/v1/ws`;
    await gw.publish(stream, [
      { type: 'task:start', data: { taskId: 'late-join', title: 'A long answer' } },
      { type: 'message:start', data: { messageId: 'm1', role: 'assistant' } },
    ]);
    // Half of 2,000 tokens, published as an agent streams them: a few per batch.
    for (let i = 0; i < 1000; i += 4) {
      const events = [];
      for (let j = i; j < i + 4; j++) {
        const token = ` w${j % 97}`;
        soFar += token;
        events.push({ type: 'message:delta', data: { messageId: 'm1', delta: token } });
      }
      head = (await gw.publish(stream, events)).results.at(-1)!.seq;
    }
  });
  after(() => gw?.close());

  /** Subscribes, waits until caught up to the head it was told, and returns the bytes that took. */
  async function join(op: object): Promise<{ probe: WsProbe; bytes: number }> {
    const probe = await WsProbe.open(wsUrl);
    const start = bytesRead(probe);
    probe.send({ op: 'subscribe', stream, ...op });
    await probe.until(() => {
      const sub = probe.find('subscribed');
      if (!sub) return false;
      return (sub.snapshot?.seq ?? 0) >= sub.seq || probe.events.at(-1)?.seq === sub.seq;
    });
    return { probe, bytes: bytesRead(probe) - start };
  }

  it('with a snapshot: the text so far in one frame, within 2× its size, then the live deltas', async (t) => {
    const { probe, bytes } = await join({ snapshot: true });
    const sub = probe.find('subscribed')!;
    assert.equal(sub.snapshot?.state?.messages.m1?.text, soFar);
    assert.equal(probe.events.length, 0, 'no replay: the state carries the text');
    t.diagnostic(`${bytes} bytes to catch up on ${soFar.length} bytes of text`);
    assert.ok(bytes <= 2 * soFar.length, `${bytes} bytes to catch up on ${soFar.length} bytes of text`);
    await gw.publish(stream, [{ type: 'message:delta', data: { messageId: 'm1', delta: ' next' } }]);
    await probe.until(() => probe.events.length === 1);
    assert.equal(follow(probe.events, sub.snapshot!.seq).text, ' next');
    probe.close();
  });

  it('resuming from seq 0 with coalesce: the deltas merged, within 2× the text, seqs exact', async (t) => {
    const { probe, bytes } = await join({ since: { seq: 0 }, coalesce: true });
    const { text, seq } = follow(probe.events, 0);
    assert.equal(text, soFar + ' next');
    assert.equal(seq, head + 1);
    t.diagnostic(`${bytes} bytes to catch up on ${soFar.length} bytes of text`);
    assert.ok(bytes <= 2 * soFar.length, `${bytes} bytes to catch up on ${soFar.length} bytes of text`);
    probe.close();
  });

  it('exact resume without coalesce still gets every event, one per seq', async () => {
    const { probe } = await join({ since: { seq: 500 } });
    assert.deepEqual(
      probe.events.map((e) => e.seq),
      Array.from({ length: head + 1 - 500 }, (_, i) => 501 + i),
    );
    assert.ok(probe.events.every((e) => e.fromSeq === undefined));
    probe.close();
  });
});
