import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import type { AnyEnvelope } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';
import { WsProbe } from '../testing/ws-probe.js';
import { HeldEvents, compact } from './coalesce.js';

let seq = 0;
function env(type: string, data: unknown): AnyEnvelope {
  seq++;
  return { stream: 'task:t', seq, epoch: 'e1', id: `id-${seq}`, type, time: seq, data } as AnyEnvelope;
}
const delta = (messageId: string, text: string) => env('message:delta', { messageId, delta: text });

/** Applies events as a client does: each must follow on (a merged one from its `fromSeq`). */
function textOf(events: readonly AnyEnvelope[], messageId: string, from = 0): { text: string; seq: number } {
  let at = from;
  let text = '';
  for (const e of events) {
    const first = e.fromSeq ?? e.seq;
    assert.equal(first, at + 1, `event ${e.seq} (from ${first}) follows ${at}`);
    at = e.seq;
    if (e.type === 'message:delta' && e.data.messageId === messageId) text += e.data.delta;
  }
  return { text, seq: at };
}

describe('coalescing token deltas', () => {
  it('merges adjacent deltas of one message and nothing else', () => {
    seq = 0;
    const events = [
      env('message:start', { messageId: 'm', role: 'assistant' }),
      delta('m', 'a'),
      delta('m', 'b'),
      delta('m', 'c'),
      env('tool:start', { toolCallId: 'x', name: 'search' }),
      delta('m', 'd'),
      delta('n', 'e'),
      delta('n', 'f'),
      env('message:delta', { messageId: 'n', delta: 'g', extra: 1 }),
      env('message:end', { messageId: 'm' }),
    ];
    const out = compact(events);
    assert.deepEqual(
      out.map((e) => [e.type, e.fromSeq ?? e.seq, e.seq]),
      [
        ['message:start', 1, 1],
        ['message:delta', 2, 4],
        ['tool:start', 5, 5],
        ['message:delta', 6, 6],
        ['message:delta', 7, 8],
        ['message:delta', 9, 9],
        ['message:end', 10, 10],
      ],
    );
    assert.equal(textOf(out, 'm').text, 'abcd');
    assert.equal(textOf(out, 'n').text, 'efg');
    assert.equal(out[1]!.id, 'id-4', 'a merged delta carries its last part’s id');
    // Nothing to merge: the same array back, so the cached frame of the run is used.
    const plain = events.slice(0, 2);
    assert.equal(compact(plain), plain);
  });

  it('holds one entry per run of deltas, counting what it stands for', () => {
    seq = 0;
    const held = new HeldEvents();
    held.add([env('message:start', { messageId: 'm', role: 'assistant' })]);
    for (let i = 0; i < 100; i++) held.add([delta('m', 'xy')]);
    assert.equal(held.count, 2);
    const { frame, count } = held.take('task:t');
    assert.equal(count, 101);
    assert.equal(held.count, 0);
    const op = JSON.parse(frame) as { events: AnyEnvelope[] };
    assert.equal(textOf(op.events, 'm').text, 'xy'.repeat(100));
  });
});

describe('a slow reader on a real socket', () => {
  let gw: Gateway;
  after(() => gw?.close());

  const maxHeldBytes = 256 * 1024;
  const maxBufferedBytes = 512 * 1024;

  it('gets merged deltas and the exact final text, holding bounded memory, instead of eviction', async () => {
    gw = await createGateway({
      port: 0,
      logLevel: 'silent',
      limits: { maxBufferedBytes },
      coalesce: { behindBytes: 64 * 1024, maxHeldBytes, flushIntervalMs: 5 },
    });
    const stream = 'task:slow-reader';
    await gw.publish(stream, [
      { type: 'task:start', data: { taskId: 'slow-reader', title: 'slow' } },
      { type: 'message:start', data: { messageId: 'm1', role: 'assistant' } },
    ]);
    const probe = await WsProbe.open(`${gw.url.replace('http', 'ws')}/v1/ws`);
    probe.send({ op: 'subscribe', stream, coalesce: true, since: { seq: 2 } });
    probe.send({ op: 'subscribe', stream: 'task:filler' });
    await probe.until(() => probe.frames.filter((f) => f.op === 'subscribed').length === 2);
    // The reader stops reading. Large events of another stream fill the kernel's buffers and
    // then the gateway's socket buffer past behindBytes: from then on the token stream is held
    // and merged in the hub.
    const socket = (probe.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const filler = 'f'.repeat(16 * 1024);
    for (let i = 0; gw.hub.maxSubscriberBytes <= 64 * 1024; i++) {
      assert.ok(i < 10_000, 'the connection never fell behind');
      await gw.publish('task:filler', [{ type: 'log:entry', data: { level: 'info', message: filler } }]);
    }

    let expected = '';
    let maxHeld = 0;
    let maxQueued = 0;
    for (let batch = 0; batch < 40; batch++) {
      const events = [];
      for (let i = 0; i < 50; i++) {
        const text = ` token${batch * 50 + i}`;
        expected += text;
        events.push({ type: 'message:delta', data: { messageId: 'm1', delta: text } });
      }
      await gw.publish(stream, events);
      maxHeld = Math.max(maxHeld, gw.hub.heldBytes);
      maxQueued = Math.max(maxQueued, gw.hub.maxSubscriberBytes);
    }
    await gw.publish(stream, [
      { type: 'message:end', data: { messageId: 'm1' } },
      { type: 'task:complete', data: {} },
    ]);
    assert.ok(maxHeld > 0, 'the hub held events for the reader');
    assert.ok(maxHeld <= maxHeldBytes, `held ${maxHeld} bytes, bound ${maxHeldBytes}`);
    assert.ok(maxQueued <= maxHeldBytes + maxBufferedBytes, `one reader held ${maxQueued} bytes`);

    socket.resume();
    await probe.until(
      () => probe.events.some((e) => e.type === 'task:complete') || probe.closeCode !== undefined,
      30_000,
    );
    assert.equal(probe.closeCode, undefined, 'not evicted');
    const mine = probe.events.filter((e) => e.stream === stream);
    const { text, seq: last } = textOf(mine, 'm1', 2);
    assert.equal(last, 2 + 40 * 50 + 2);
    assert.equal(text, expected, 'the final text, byte for byte');
    assert.ok(mine.length < 10, `${mine.length} events for ${40 * 50} deltas: merged while held`);
    assert.equal(gw.hub.slowConsumerEvictions, 0);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const merged = Number(/^agentwire_coalesced_events_total (\d+)/m.exec(metrics)?.[1]);
    assert.ok(merged >= 40 * 50 - mine.length, `${merged} events counted as merged`);
    assert.match(metrics, /^agentwire_held_bytes 0$/m);
    probe.close();
  });

  it('still evicts a reader that coalescing cannot keep up with, and it resumes by seq', async () => {
    const stream = 'task:slow-structural';
    await gw.publish(stream, [{ type: 'task:start', data: { taskId: 'slow-structural', title: 'tools' } }]);
    const probe = await WsProbe.open(`${gw.url.replace('http', 'ws')}/v1/ws`);
    probe.send({ op: 'subscribe', stream, coalesce: true, since: { seq: 1 } });
    await probe.waitFor('subscribed');
    const socket = (probe.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    // Structural events never merge: held, they outgrow the bound and the reader is evicted.
    const before = gw.hub.slowConsumerEvictions;
    for (let batch = 0; batch < 200 && gw.hub.slowConsumerEvictions === before; batch++) {
      const events = [];
      for (let i = 0; i < 50; i++)
        events.push({ type: 'log:entry', data: { level: 'info', message: 'y'.repeat(200) } });
      await gw.publish(stream, events);
      assert.ok(gw.hub.heldBytes <= maxHeldBytes + 50 * 400);
    }
    assert.equal(gw.hub.slowConsumerEvictions, before + 1);
    socket.resume();
    await probe.until(() => probe.closeCode !== undefined, 10_000);
    assert.equal(probe.closeCode, 4008);
    // What it did get is a gapless prefix, so resuming from its last seq loses nothing.
    const got = probe.events;
    got.forEach((e, i) => assert.equal(e.seq, 2 + i));
    const again = await WsProbe.open(`${gw.url.replace('http', 'ws')}/v1/ws`);
    const from = got.at(-1)?.seq ?? 1;
    again.send({ op: 'subscribe', stream, coalesce: true, since: { seq: from } });
    const head = (await again.waitFor('subscribed')).seq;
    await again.until(() => again.events.at(-1)?.seq === head, 10_000);
    again.events.forEach((e, i) => assert.equal(e.seq, from + 1 + i));
    again.close();
  });
});
