import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reduceTaskEvents, type AnyEventInput } from '@agentwire/protocol';
import WebSocket from 'ws';
import { createGateway, type Gateway } from '../gateway.js';
import { WsProbe } from '../testing/ws-probe.js';

const log = (i: number): AnyEventInput => ({
  type: 'log:entry',
  data: { level: 'info', message: `line ${i}` },
});
const seqs = (probe: WsProbe, stream: string) =>
  probe.events.filter((e) => e.stream === stream).map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('native WebSocket transport', () => {
  let gw: Gateway;
  before(async () => {
    gw = await createGateway({
      port: 0,
      logLevel: 'silent',
      limits: { maxFrameBytes: 4096, maxSubscriptionsPerConnection: 3 },
    });
  });
  after(() => gw.close());

  it('greets, subscribes and delivers live events in order', async () => {
    const p = await WsProbe.open(gw.wsUrl);
    p.send({ op: 'subscribe', stream: 'task:live', ref: 's1' });
    const sub = await p.waitFor('subscribed');
    assert.equal(sub.ref, 's1');
    assert.equal(sub.recovered, true);
    assert.equal(sub.seq, 0);
    await gw.publish('task:live', [log(1), log(2)]);
    await gw.publish('task:live', [log(3)]);
    await p.until(() => p.events.length === 3);
    assert.deepEqual(seqs(p, 'task:live'), [1, 2, 3]);
    assert.equal(p.events[0]!.type, 'log:entry');
    assert.equal(p.events[0]!.epoch, sub.epoch);
    p.close();
  });

  it('resumes from since with exactly the missed events, then the live tail', async () => {
    const stream = 'task:resume';
    for (let i = 1; i <= 10; i++) await gw.publish(stream, [log(i)]);
    const { epoch } = await gw.engine.head(stream);
    const p = await WsProbe.open(gw.wsUrl);
    p.send({ op: 'subscribe', stream, since: { epoch, seq: 4 } });
    const sub = await p.waitFor('subscribed');
    assert.equal(sub.recovered, true);
    await gw.publish(stream, [log(11)]);
    await p.until(() => p.events.length === 7);
    assert.deepEqual(seqs(p, stream), range(5, 11));
    p.close();
  });

  it('is gapless and duplicate-free while events arrive during catch-up', async () => {
    const stream = 'task:race';
    for (let i = 0; i < 20; i++)
      await gw.publish(
        stream,
        Array.from({ length: 50 }, (_, j) => log(i * 50 + j)),
      );
    const { epoch } = await gw.engine.head(stream);
    const p = await WsProbe.open(gw.wsUrl);
    let publishing = true;
    const producer = (async () => {
      for (let i = 0; publishing && i < 400; i++) await gw.publish(stream, [log(1000 + i)]);
    })();
    p.send({ op: 'subscribe', stream, since: { epoch, seq: 0 } });
    await p.until(() => p.events.length >= 1100, 10_000);
    publishing = false;
    await producer;
    const head = (await gw.engine.head(stream)).head;
    await p.until(() => p.events.length === head, 10_000);
    assert.deepEqual(seqs(p, stream), range(1, head));
    p.close();
  });

  it('answers an unknown epoch with recovered:false and a snapshot equal to the reducer', async () => {
    const stream = 'task:snap';
    await gw.publish(stream, [
      { type: 'task:start', data: { taskId: 'snap', title: 'Snapshot me' } },
      { type: 'agent:spawned', data: { agentId: 'a1', name: 'planner', model: 'm' } },
      { type: 'tool:executing', data: { callId: 'c1', tool: 'search', agentId: 'a1' } },
    ]);
    const p = await WsProbe.open(gw.wsUrl);
    p.send({ op: 'subscribe', stream, since: { epoch: 'gone', seq: 2 } });
    const sub = await p.waitFor('subscribed');
    assert.equal(sub.recovered, false);
    assert.equal(sub.snapshot?.seq, 3);
    const history = await gw.engine.read(stream, 0, 100);
    const expected = JSON.parse(JSON.stringify(reduceTaskEvents(history.events)));
    assert.deepEqual(sub.snapshot?.state, expected);
    await gw.publish(stream, [{ type: 'tool:complete', data: { callId: 'c1', durationMs: 5 } }]);
    await p.until(() => p.events.length === 1);
    assert.deepEqual(seqs(p, stream), [4]);
    p.close();
  });

  it('gives late joiners a snapshot when asked', async () => {
    const stream = 'task:late';
    await gw.publish(stream, [{ type: 'task:start', data: { taskId: 'late', title: 'Late' } }, log(1)]);
    const p = await WsProbe.open(gw.wsUrl);
    p.send({ op: 'subscribe', stream, snapshot: true });
    const sub = await p.waitFor('subscribed');
    assert.equal(sub.snapshot?.seq, 2);
    assert.equal((sub.snapshot?.state as { title: string }).title, 'Late');
    p.close();
  });

  it('refuses bad input with typed errors and keeps the connection', async () => {
    const p = await WsProbe.open(gw.wsUrl);
    const cases: [unknown, string][] = [
      ['{not json', 'bad_json'],
      ['[1,2]', 'invalid_message'],
      [{ op: 'explode' }, 'unknown_op'],
      [{ op: 'subscribe', stream: 'no spaces allowed', ref: 'r' }, 'invalid_stream'],
      [{ op: 'subscribe', stream: 'task:x', since: { seq: -1 } }, 'invalid_since'],
      [{ op: 'subscribe', stream: 'task:x', since: { seq: 'a' } }, 'invalid_since'],
      [{ op: 'unsubscribe', stream: 'task:never' }, 'not_subscribed'],
      [{ op: 'command', ref: 'c', command: { type: 'cancel', stream: 'task:x' } }, 'not_found'],
    ];
    for (const [input, code] of cases) {
      const before = p.frames.length;
      p.send(input);
      await p.until(() => p.frames.length > before);
      const frame = p.frames[p.frames.length - 1]!;
      assert.equal(frame.op, 'error', JSON.stringify(input));
      assert.equal(frame.op === 'error' && frame.code, code, JSON.stringify(input));
    }
    p.send({ op: 'ping', ref: 'alive' });
    await p.waitFor('pong', (f) => f.ref === 'alive');
    p.close();
  });

  it('limits subscriptions per connection and refuses doubles', async () => {
    const p = await WsProbe.open(gw.wsUrl);
    for (const s of ['task:l1', 'task:l2', 'task:l3']) p.send({ op: 'subscribe', stream: s });
    await p.until(() => p.frames.filter((f) => f.op === 'subscribed').length === 3);
    p.send({ op: 'subscribe', stream: 'task:l1', ref: 'dup' });
    assert.equal((await p.waitFor('error', (f) => f.ref === 'dup')).code, 'already_subscribed');
    p.send({ op: 'subscribe', stream: 'task:l4', ref: 'many' });
    assert.equal((await p.waitFor('error', (f) => f.ref === 'many')).code, 'too_many_subscriptions');
    p.send({ op: 'unsubscribe', stream: 'task:l1', ref: 'u' });
    await p.waitFor('unsubscribed', (f) => f.ref === 'u');
    await gw.publish('task:l1', [log(1)]);
    await gw.publish('task:l2', [log(1)]);
    await p.until(() => p.events.length === 1);
    assert.equal(p.events[0]!.stream, 'task:l2');
    p.close();
  });

  it('closes with 1009 on an oversize frame and 1007 on invalid UTF-8, and stays up', async () => {
    const big = await WsProbe.open(gw.wsUrl);
    big.send('x'.repeat(10_000));
    await big.until(() => big.closeCode !== undefined);
    assert.equal(big.closeCode, 1009);

    const bad = await WsProbe.open(gw.wsUrl);
    (bad.ws as WebSocket).send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    await bad.until(() => bad.closeCode !== undefined);
    assert.equal(bad.closeCode, 1007);

    const ok = await fetch(`${gw.url}/healthz`);
    assert.equal(ok.status, 200);
  });

  it('refuses upgrades on unknown paths', async () => {
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/nope`);
    const err = await new Promise<Error>((resolve) => ws.once('error', resolve));
    assert.match(err.message, /404/);
  });
});
