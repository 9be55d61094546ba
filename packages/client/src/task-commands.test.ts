/**
 * The watcher's side of commands against the real gateway and a real producer (the agent SDK,
 * in-process): `sub.cancel()` fires the producer's signal, `sub.answer()` resolves its `ask`, and
 * `sub.send()` reaches its chat; refusals arrive as typed errors, some of them without a round trip.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { createGateway, type Gateway } from '@agentwire/server';
import { AgentwireError, createClient, type Client } from './index.js';
import { until } from './testing/scripted-server.js';

describe('task commands from the client SDK', () => {
  let gw: Gateway;
  let aw: Producer;
  let alice: Client;
  let bob: Client;

  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent' });
    aw = connect({ publisher: gw });
    alice = createClient({ url: gw.url });
    bob = createClient({ url: gw.url });
  });
  after(async () => {
    await Promise.all([alice.close(), bob.close()]);
    await aw.close();
    await gw.close();
  });

  const code = (c: string) => (err: unknown) => err instanceof AgentwireError && err.code === c;

  it('sub.cancel() aborts the producer signal and the cancel shows up in every view', async () => {
    const task = await aw.startTask({ title: 'Cancel me' });
    const sub = alice.subscribe(task.stream);
    await sub.ready;
    const aborted = new Promise<unknown>((resolve) =>
      task.signal.addEventListener('abort', () => resolve(task.signal.reason)),
    );
    const ack = await sub.cancel({ reason: 'not needed' });
    assert.match(String((await aborted) as Error), /cancelled by connection:.*not needed/);
    assert.equal(ack.stream, task.stream);
    assert.equal(typeof ack.seq, 'number');
    await until(() => sub.state?.status === 'cancelled', 'the cancel');
    assert.equal(sub.state?.cancelReason, 'not needed');
    sub.close();
  });

  it('sub.answer(): the first answer wins, the second watcher gets question_closed, invalid ones never leave', async () => {
    const task = await aw.startTask({ title: 'Ask' });
    const a = alice.subscribe(task.stream);
    const b = bob.subscribe(task.stream);
    await Promise.all([a.ready, b.ready]);
    const asked = task.ask<string>('Ship it?', { options: ['yes', 'no'] });
    await until(
      () =>
        Object.keys(a.state?.questions ?? {}).length === 1 &&
        Object.keys(b.state?.questions ?? {}).length === 1,
      'the question on both watchers',
    );
    const questionId = Object.keys(a.state!.questions)[0]!;

    await assert.rejects(b.answer(questionId, 'maybe'), code('invalid_answer'));
    const [first, second] = await Promise.allSettled([
      a.answer(questionId, 'yes'),
      b.answer(questionId, 'no'),
    ]);
    assert.equal(first.status, 'fulfilled');
    assert.equal(second.status, 'rejected');
    assert.ok(code('question_closed')((second as PromiseRejectedResult).reason));
    const result = await asked;
    assert.equal(result.timedOut, false);
    assert.equal(result.answer, 'yes');
    await until(() => b.state?.questions[questionId]?.status === 'answered', 'b to see the answer');
    // Now b's own view knows it is closed: refused locally, no round trip.
    await assert.rejects(b.answer(questionId, 'no'), code('question_closed'));
    assert.equal(b.state?.questions[questionId]?.by, result.timedOut ? undefined : result.by);
    await task.complete();
    a.close();
    b.close();
  });

  it('sub.send() delivers chat to the producer in order', async () => {
    const task = await aw.startTask({ title: 'Chat' });
    const sub = alice.subscribe(task.stream);
    await sub.ready;
    const got: string[] = [];
    task.onMessage((m) => void got.push(m.text));
    await Promise.all(['a', 'b', 'c'].map((t) => sub.send(t)));
    await until(() => got.length === 3, 'three messages');
    assert.deepEqual(got, ['a', 'b', 'c']);
    await task.complete();
    sub.close();
  });

  it('a command nobody can carry out is a typed error', async () => {
    await assert.rejects(alice.command({ type: 'start', kind: 'nobody' }), code('no_worker'));
    const sub = alice.subscribe('task:never-started');
    await sub.ready;
    await assert.rejects(sub.cancel(), code('not_found'));
    sub.close();
  });
});
