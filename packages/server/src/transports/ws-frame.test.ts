import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { createGateway } from '../gateway.js';
import { WsProbe } from '../testing/ws-probe.js';
import { cachedTextFrame, textFrame } from './ws-frame.js';

// ws's frame parser, which its type definitions leave out.
interface FrameReceiver {
  on(event: 'message', listener: (data: Buffer, binary: boolean) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  write(chunk: Buffer): void;
}
const { Receiver } = createRequire(import.meta.url)('ws') as {
  Receiver: new (options: { isServer: boolean }) => FrameReceiver;
};

/** Decodes `frame` with ws's own parser, as a client would. */
function parse(frame: Buffer): Promise<{ text: string; binary: boolean }> {
  return new Promise((resolve, reject) => {
    // ws parses client-to-server frames when isServer is true; a client parses unmasked ones.
    const receiver = new Receiver({ isServer: false });
    receiver.on('message', (data: Buffer, binary: boolean) => resolve({ text: data.toString(), binary }));
    receiver.on('error', reject);
    receiver.write(frame);
  });
}

describe('pre-framed WebSocket text frames', () => {
  it('encodes every payload-length form so a client parser reads the text back', async () => {
    for (const length of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
      const text = 'x'.repeat(length);
      const frame = textFrame(text);
      assert.equal(frame[0], 0x81, 'FIN + text');
      assert.equal(frame[1]! & 0x80, 0, 'server frames are unmasked');
      assert.deepEqual(await parse(frame), { text, binary: false }, `length ${length}`);
    }
  });

  it('counts bytes, not characters, for non-ASCII text', async () => {
    const text = 'tâche ✓ 🚀'.repeat(20);
    assert.deepEqual(await parse(textFrame(text)), { text, binary: false });
  });

  it('frames a repeated string once and a new string anew', () => {
    const a = cachedTextFrame('{"op":"event","n":1}');
    assert.equal(cachedTextFrame('{"op":"event","n":1}'), a);
    const b = cachedTextFrame('{"op":"event","n":2}');
    assert.notEqual(b, a);
    assert.equal(b.subarray(2).toString(), '{"op":"event","n":2}');
  });
});

describe('native WebSocket send path', () => {
  it('delivers a group commit to many subscribers in order, each event once', async () => {
    const gateway = await createGateway({ port: 0, logLevel: 'silent' });
    try {
      const probes = await Promise.all(Array.from({ length: 5 }, () => WsProbe.open(gateway.wsUrl)));
      for (const p of probes) {
        p.send({ op: 'subscribe', stream: 'task:fan' });
        await p.until(() => p.frames.some((f) => f.op === 'subscribed'));
      }
      // Several appends in one turn: each subscriber's frames of the turn leave corked together.
      const publishes = Array.from({ length: 20 }, (_, i) =>
        gateway.publish('task:fan', [{ type: 'log:entry', data: { level: 'info', message: `m${i}` } }]),
      );
      await Promise.all(publishes);
      for (const p of probes) {
        await p.until(() => p.events.length >= 20);
        assert.deepEqual(
          p.events.map((e) => e.seq),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        p.close();
      }
    } finally {
      await gateway.close();
    }
  });

  it('keeps order and loses nothing when events arrive while a flush is half done', async () => {
    const gateway = await createGateway({ port: 0, logLevel: 'silent' });
    try {
      // More subscribers than one flush slice, so flushes run in slices with turns in between.
      const probes = await Promise.all(Array.from({ length: 600 }, () => WsProbe.open(gateway.wsUrl)));
      for (const p of probes) p.send({ op: 'subscribe', stream: 'task:sliced' });
      for (const p of probes) await p.until(() => p.frames.some((f) => f.op === 'subscribed'));
      const total = 40;
      for (let i = 0; i < total; i++) {
        await gateway.publish('task:sliced', [
          { type: 'log:entry', data: { level: 'info', message: `m${i}` } },
        ]);
        // Let a slice run, so the next event lands between two slices of a flush.
        await new Promise((resolve) => setImmediate(resolve));
      }
      const expected = Array.from({ length: total }, (_, i) => i + 1);
      for (const p of probes) {
        await p.until(() => p.events.length >= total);
        assert.deepEqual(
          p.events.map((e) => e.seq),
          expected,
        );
      }
      for (const p of probes) p.close();
    } finally {
      await gateway.close();
    }
  });

  it('closes a subscriber that stops reading with 4008 once its buffer passes the limit', async () => {
    const gateway = await createGateway({
      port: 0,
      logLevel: 'silent',
      limits: { maxBufferedBytes: 64 * 1024 },
    });
    try {
      const slow = await WsProbe.open(gateway.wsUrl);
      slow.send({ op: 'subscribe', stream: 'task:slow' });
      await slow.until(() => slow.frames.some((f) => f.op === 'subscribed'));
      const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const message = 'y'.repeat(2000);
      // Enough to fill the kernel's socket buffers and then the server's own bound.
      for (let i = 0; i < 100 && slow.closeCode === undefined; i++) {
        await gateway.publish(
          'task:slow',
          Array.from({ length: 100 }, () => ({ type: 'log:entry', data: { level: 'info', message } })),
        );
        await new Promise((resolve) => setImmediate(resolve));
      }
      socket.resume();
      await slow.until(() => slow.closeCode !== undefined);
      assert.equal(slow.closeCode, 4008);
      // What it did receive before the close is a gapless prefix.
      assert.deepEqual(
        slow.events.map((e) => e.seq),
        Array.from({ length: slow.events.length }, (_, i) => i + 1),
      );
    } finally {
      await gateway.close();
    }
  });
});
