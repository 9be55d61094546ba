import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { taskIdOf, taskStream, type AnyEnvelope, type EventData } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';
import { WsProbe } from '../testing/ws-probe.js';
import { commandOverWs, RawProducer } from '../testing/producers.js';
import { waitUntil } from '../testing/wait.js';

/**
 * The gateway's side of the producer channel, driven by hand-written frames: routing, acks,
 * refusals, timeouts, redelivery, orphaning, answers and starts. The agent SDK's end-to-end tests
 * (commands.e2e.test.ts) run the same paths with real producer processes.
 */
describe('producer channel: the gateway side', () => {
  let gw: Gateway;
  let watcher: WsProbe;
  let n = 0;

  before(async () => {
    gw = await createGateway({
      port: 0,
      logLevel: 'silent',
      producers: { heartbeatMs: 100, orphanAfterMs: 600, commandTimeoutMs: 300, claimWaitMs: 100 },
    });
    watcher = await WsProbe.open(gw.wsUrl);
  });
  after(async () => {
    watcher.close();
    await gw.close();
  });

  async function task(extra: Partial<EventData<'task:start'>> = {}): Promise<string> {
    const stream = `task:chan-${++n}`;
    await gw.publish(stream, [
      { type: 'task:start', data: { taskId: taskIdOf(stream)!, title: 'T', ...extra } },
    ]);
    return stream;
  }
  const events = async (stream: string): Promise<AnyEnvelope[]> =>
    (await gw.engine.read(stream, 0, 1000)).events;

  it('routes a cancel to the owner, records task:cancelled with who and why only after the ack', async () => {
    const stream = await task();
    const producer = await RawProducer.open(gw.url, { streams: [stream], name: 'raw' });
    const reply = commandOverWs(watcher, { type: 'cancel', stream, reason: 'wrong topic' });
    const delivered = await producer.command();
    assert.equal(delivered.command.type, 'cancel');
    assert.equal(delivered.command.stream, stream);
    assert.match((delivered.command as { by?: string }).by ?? '', /^connection:/);
    assert.deepEqual(
      (await events(stream)).map((e) => e.type),
      ['task:start'],
      'nothing is recorded before the producer confirms',
    );
    producer.send({ op: 'ack', id: delivered.id });
    const r = await reply;
    assert.ok(r.ok);
    const cancelled = (await events(stream)).at(-1)!;
    assert.equal(cancelled.type, 'task:cancelled');
    assert.deepEqual(r.result, { stream, seq: cancelled.seq });
    assert.equal((cancelled.data as { reason?: string }).reason, 'wrong topic');
    assert.match((cancelled.data as { by?: string }).by ?? '', /^connection:/);
    // A second cancel of the ended task is harmless and bothers nobody.
    const again = await commandOverWs(watcher, { type: 'cancel', stream });
    assert.deepEqual(again, { ok: true, result: { stream, status: 'cancelled', seq: cancelled.seq } });
    assert.equal(producer.commands.length, 1);
    producer.close();
  });

  it("relays the producer's refusal with its code, and an unknown code as command_failed", async () => {
    const stream = await task();
    const producer = await RawProducer.open(gw.url, { streams: [stream] });
    const first = commandOverWs(watcher, { type: 'message', stream, text: 'hi' });
    producer.send({ op: 'reject', id: (await producer.command()).id, code: 'forbidden', message: 'not you' });
    assert.deepEqual(await first, { ok: false, code: 'forbidden', message: 'not you', details: undefined });
    const second = commandOverWs(watcher, { type: 'message', stream, text: 'hi again' });
    producer.send({ op: 'reject', id: (await producer.command(1)).id, code: 'made_up', message: 'hm' });
    assert.equal(((await second) as { code: string }).code, 'command_failed');
    producer.close();
  });

  it('refuses clearly: no producer, not a task, no such task, no such agent', async () => {
    const orphan = await task();
    const started = Date.now();
    const none = await commandOverWs(watcher, { type: 'cancel', stream: orphan });
    assert.equal((none as { code: string }).code, 'no_producer');
    assert.ok(Date.now() - started < 2_000);
    assert.equal(
      ((await commandOverWs(watcher, { type: 'cancel', stream: 'project:x' })) as { code: string }).code,
      'invalid_stream',
    );
    assert.equal(
      ((await commandOverWs(watcher, { type: 'cancel', stream: 'task:ghost' })) as { code: string }).code,
      'not_found',
    );
    const stream = await task();
    const producer = await RawProducer.open(gw.url, { streams: [stream] });
    const r = await commandOverWs(watcher, { type: 'cancel', stream, agentId: 'nobody' });
    assert.equal((r as { code: string }).code, 'not_found');
    producer.close();
  });

  it('times out without an ack, and a late ack still records the cancel that happened', async () => {
    const stream = await task();
    const producer = await RawProducer.open(gw.url, { streams: [stream] });
    const reply = await commandOverWs(watcher, { type: 'cancel', stream });
    assert.equal((reply as { code: string }).code, 'timeout');
    assert.deepEqual((reply as { details?: unknown }).details, { delivered: true });
    producer.send({ op: 'ack', id: producer.commands[0]!.id });
    await waitUntil(
      async () => (await events(stream)).at(-1)?.type === 'task:cancelled',
      'the cancel to land',
    );
    producer.close();
  });

  it('queues commands while the producer is away and redelivers unacknowledged ones with the same id', async () => {
    const stream = await task();
    const producerId = 'comes-back';
    const first = await RawProducer.open(gw.url, { producerId, streams: [stream] });
    const reply = commandOverWs(watcher, { type: 'message', stream, text: 'one' });
    const original = await first.command();
    first.terminate(); // the ack is never sent
    await waitUntil(
      () => gw.producers.list().some((p) => p.producerId === producerId && p.connected === false),
      'the producer to be seen away',
    );
    const queued = commandOverWs(watcher, { type: 'message', stream, text: 'two' });
    // The unacknowledged command and the new one wait at the gateway for the producer to return.
    await waitUntil(
      () => (gw.producers.stats() as { queuedCommands: number }).queuedCommands === 2,
      'the second command to queue',
    );
    const back = await RawProducer.open(gw.url, { producerId, streams: [stream] });
    const welcome = back.ops.find((o) => o.op === 'welcome');
    assert.equal(welcome?.op === 'welcome' && welcome.resumed, true);
    await back.until(() => back.commands.length === 2);
    assert.equal(back.commands[0]!.id, original.id, 'the unacknowledged command again, same id');
    assert.equal((back.commands[1]!.command as { text: string }).text, 'two');
    for (const c of back.commands) back.send({ op: 'ack', id: c.id });
    back.send({ op: 'ack', id: original.id }); // a duplicate ack changes nothing
    assert.ok((await reply).ok);
    assert.ok((await queued).ok);
    const chat = (await events(stream))
      .filter((e) => e.type === 'chat:message')
      .map((e) => (e.data as { text: string }).text);
    assert.deepEqual(chat, ['one', 'two'], 'each message recorded once, in order');
    back.close();
  });

  it('a command for a producer that stays away too long is withdrawn with timeout, undelivered', async () => {
    const stream = await task();
    const away = await RawProducer.open(gw.url, { streams: [stream], producerId: 'away' });
    away.terminate();
    await waitUntil(
      () => gw.producers.list().some((p) => p.producerId === 'away' && p.connected === false),
      'the producer to be seen away',
    );
    const reply = await commandOverWs(watcher, { type: 'message', stream, text: 'anyone?' });
    assert.equal((reply as { code: string }).code, 'timeout');
    assert.deepEqual((reply as { details?: unknown }).details, { delivered: false });
  });

  it('marks the tasks of a silent producer orphaned, and those of one that says bye at once', async () => {
    const silent = await task();
    const leaving = await task();
    const done = await task();
    const p1 = await RawProducer.open(gw.url, { streams: [silent, done] });
    await gw.publish(done, [{ type: 'task:complete', data: {} }]);
    const started = Date.now();
    p1.terminate();
    const p2 = await RawProducer.open(gw.url, { streams: [leaving], name: 'polite' });
    p2.send({ op: 'bye' });
    await waitUntil(
      async () => (await events(leaving)).at(-1)?.type === 'task:failed',
      'the polite producer’s task to fail',
    );
    const byeFailure = (await events(leaving)).at(-1)!;
    assert.equal((byeFailure.data as { reason?: string }).reason, 'orphaned');
    assert.match(
      (byeFailure.data as { error: { message: string } }).error.message,
      /polite .* left without finishing it/,
    );
    await waitUntil(
      async () => (await events(silent)).at(-1)?.type === 'task:failed',
      'the silent producer’s task to fail',
      3_000,
    );
    const failure = (await events(silent)).at(-1)!;
    assert.equal((failure.data as { reason?: string }).reason, 'orphaned');
    assert.match(
      (failure.data as { error: { message: string } }).error.message,
      /stopped responding \(no heartbeat for/,
    );
    console.log(
      `# silent producer's task marked orphaned ${Date.now() - started} ms after it died (orphanAfterMs 600)`,
    );
    assert.equal((await events(done)).at(-1)!.type, 'task:complete', 'a finished task is left alone');
  });

  it('answers: validated at the gateway, exactly one of two racing answers wins, question:answered records who', async () => {
    const stream = await task();
    const producer = await RawProducer.open(gw.url, { streams: [stream] });
    await gw.publish(stream, [
      {
        type: 'question:asked',
        data: { questionId: 'q1', prompt: 'Depth?', options: [{ value: 'quick' }, { value: 'thorough' }] },
      },
    ]);
    const invalid = await commandOverWs(watcher, {
      type: 'answer',
      stream,
      questionId: 'q1',
      answer: 'deep',
    });
    assert.equal((invalid as { code: string }).code, 'invalid_answer');
    const other = await WsProbe.open(gw.wsUrl);
    const a = commandOverWs(watcher, { type: 'answer', stream, questionId: 'q1', answer: 'quick' });
    const b = commandOverWs(other, { type: 'answer', stream, questionId: 'q1', answer: 'thorough' });
    const delivered = await producer.command();
    producer.send({ op: 'ack', id: delivered.id });
    const replies = await Promise.all([a, b]);
    assert.equal(replies.filter((r) => r.ok).length, 1);
    const loser = replies.find((r) => !r.ok) as { code: string };
    assert.equal(loser.code, 'question_closed');
    assert.equal(producer.commands.length, 1, 'only the winner reached the producer');
    const answered = (await events(stream)).filter((e) => e.type === 'question:answered');
    assert.equal(answered.length, 1);
    const winner = replies[0]!.ok ? watcher : other;
    assert.equal((answered[0]!.data as { by?: string }).by, `connection:${winner.find('hello')!.connection}`);
    assert.equal(
      (answered[0]!.data as { answer?: unknown }).answer,
      (delivered.command as { answer: unknown }).answer,
    );
    const late = await commandOverWs(other, { type: 'answer', stream, questionId: 'q1', answer: 'quick' });
    assert.equal((late as { code: string }).code, 'question_closed');
    other.close();
    producer.close();
  });

  it('times a question out at the gateway and tells the producer', async () => {
    const stream = await task();
    const producer = await RawProducer.open(gw.url, { streams: [stream] });
    await gw.publish(stream, [
      { type: 'question:asked', data: { questionId: 'q2', prompt: 'Quick?', timeoutMs: 150 } },
    ]);
    const delivered = await producer.command();
    assert.deepEqual(delivered.command, {
      type: 'answer',
      stream,
      questionId: 'q2',
      answer: null,
      timedOut: true,
    });
    producer.send({ op: 'ack', id: delivered.id });
    const answered = (await events(stream)).find((e) => e.type === 'question:answered')!;
    assert.deepEqual(answered.data, { questionId: 'q2', answer: null, timedOut: true });
    const late = await commandOverWs(watcher, { type: 'answer', stream, questionId: 'q2', answer: 'yes' });
    assert.equal((late as { code: string }).code, 'question_closed');
    producer.close();
  });

  it('starts: no_worker at once without one; two workers share the load; a worker at capacity is skipped', async () => {
    const started = Date.now();
    const none = await commandOverWs(watcher, { type: 'start', kind: 'nobody-does-this' });
    assert.equal((none as { code: string }).code, 'no_worker');
    assert.match((none as { message: string }).message, /no worker is registered/);
    console.log(`# start with no worker refused in ${Date.now() - started} ms`);

    const w1 = await RawProducer.open(gw.url, { kinds: ['summarize'], producerId: 'w1' });
    const w2 = await RawProducer.open(gw.url, { kinds: ['summarize'], capacity: 1, producerId: 'w2' });
    // Workers acknowledge a start once they have published its task:start (and so own the task).
    const ackStarts = (w: RawProducer) =>
      w.ws.on('message', (data) => {
        const op = JSON.parse(data.toString()) as {
          op: string;
          id: string;
          command: { type: string; stream: string; taskId: string };
        };
        if (op.op !== 'command' || op.command.type !== 'start') return;
        void gw
          .publish(op.command.stream, [
            { type: 'task:start', data: { taskId: op.command.taskId, title: 'S', kind: 'summarize' } },
          ])
          .then((r) => w.send({ op: 'ack', id: op.id, result: { seq: r.results[0]!.seq } }));
      });
    ackStarts(w1);
    ackStarts(w2);
    const replies = [];
    for (let i = 0; i < 4; i++)
      replies.push(await commandOverWs(watcher, { type: 'start', kind: 'summarize', input: { i } }));
    const workers = replies.map((r) => (r.ok ? (r.result as { worker: string }).worker : r.code));
    assert.deepEqual(workers.slice(0, 2).sort(), ['w1', 'w2'], 'the first two go one to each');
    assert.deepEqual(workers.slice(2), ['w1', 'w1'], 'w2 is at its capacity of 1, so w1 takes the rest');
    const first = replies[0]!.ok
      ? (replies[0]!.result as { taskId: string; stream: string; seq: number })
      : undefined;
    assert.equal(first?.seq, 1);
    assert.equal(first?.stream, taskStream(first?.taskId));

    // Over HTTP: POST /v1/tasks with a kind starts the task at a worker, or answers no_worker.
    const viaHttp = await fetch(`${gw.url}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'From HTTP',
        kind: 'summarize',
        taskId: 'from-http',
        input: { url: 'x' },
      }),
    });
    assert.equal(viaHttp.status, 201);
    assert.deepEqual(await viaHttp.json(), {
      taskId: 'from-http',
      stream: 'task:from-http',
      worker: 'w1',
      seq: 1,
    });
    const refused = await fetch(`${gw.url}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Nobody', kind: 'translate' }),
    });
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'no_worker');
    w1.close();
    w2.close();
  });

  it('refuses bad producer frames without crashing; a first op other than hello ends the connection', async () => {
    const rude = await RawProducer.open(gw.url, false);
    rude.send({ op: 'claim', streams: ['task:x'] });
    await rude.until(() => rude.closeCode !== undefined);
    assert.equal(rude.ops[0]?.op, 'error');
    assert.equal(rude.closeCode, 4400);
    const p = await RawProducer.open(gw.url);
    p.send('{not json');
    p.send({ op: 'claim', streams: ['Not A Stream'] } as never);
    p.send({ op: 'ping' });
    await p.until(() => p.ops.some((o) => o.op === 'pong'));
    assert.deepEqual(
      p.ops.filter((o) => o.op === 'error').map((o) => (o as { code: string }).code),
      ['bad_json', 'invalid_message'],
    );
    assert.equal(p.closeCode, undefined, 'still connected');
    p.close();
  });
});
