import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, WebSocketChannel, type ChatMessage } from '@agentwire/agent';
import { taskIdOf, taskStream, type AnyEnvelope, type Command } from '@agentwire/protocol';
import { SioProbe } from '../testing/sio-probe.js';
import { createGateway, type Gateway } from '../gateway.js';
import { WsProbe } from '../testing/ws-probe.js';
import { commandOverHttp, commandOverWs, type Reply } from '../testing/producers.js';
import { ChildProducer, now } from '../testing/child-producer.js';
import { TcpProxy } from '../testing/tcp-proxy.js';
import { letTimePass, waitUntil } from '../testing/wait.js';

/**
 * Watchers act back on producers running in other processes: the agent SDK over HTTP plus its
 * producer channel, a gateway, and watchers on the native WebSocket and `POST /v1/commands`.
 * Latencies are printed, never asserted.
 */
describe('commands reach remote producers (end to end)', () => {
  let gw: Gateway;
  const children: ChildProducer[] = [];
  const cleanups: (() => void)[] = [];
  const spawn = (config: Record<string, unknown>) => {
    const child = ChildProducer.spawn({ url: gw.url, ...config });
    children.push(child);
    return child;
  };

  before(async () => {
    gw = await createGateway({
      port: 0,
      logLevel: 'silent',
      producers: { heartbeatMs: 200, orphanAfterMs: 1_000, commandTimeoutMs: 5_000, claimWaitMs: 1_000 },
    });
  });
  after(async () => {
    for (const cleanup of cleanups) cleanup();
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await gw.close();
  });

  async function watch(stream: string): Promise<WsProbe> {
    const probe = await WsProbe.open(gw.wsUrl);
    probe.send({ op: 'subscribe', stream, since: { seq: 0 }, ref: 's' }); // from the start: nothing missed
    await probe.waitFor('subscribed');
    return probe;
  }

  /** Each transport opens its connection first, so the measured figure is the cancel's alone. */
  type Sender = (command: Extract<Command, { type: 'cancel' }>) => Promise<Reply>;
  const transports: [string, (probe: WsProbe) => Promise<Sender>][] = [
    ['native WebSocket', async (probe) => (command) => commandOverWs(probe, command)],
    [
      'POST /v1/commands',
      async () => {
        await fetch(`${gw.url}/healthz`); // fetch loads lazily on first use; keep that out of the figure
        return (command) => commandOverHttp(gw.url, command);
      },
    ],
    [
      'Socket.IO stop_agent (seed 000/001)',
      async () => {
        const sio = await SioProbe.open(gw.url, { path: '/mageagent/socket.io' });
        cleanups.push(() => sio.close());
        return async (command) =>
          fromSio(
            await sio.socket.emitWithAck('stop_agent', {
              taskId: taskIdOf(command.stream),
              reason: command.reason,
            }),
          );
      },
    ],
    [
      'Socket.IO cancel (seed 002)',
      async () => {
        const sio = await SioProbe.open(gw.url, { path: '/progress/socket.io' });
        cleanups.push(() => sio.close());
        return async (command) =>
          fromSio(
            await sio.socket.emitWithAck('cancel', {
              requestId: taskIdOf(command.stream),
              reason: command.reason,
            }),
          );
      },
    ],
  ];

  for (const [name, open] of transports) {
    it(`a cancel over ${name} fires the remote producer's signal, and it stops publishing`, async () => {
      const taskId = `cancel-${name.replace(/\W+/g, '-')}`;
      const stream = taskStream(taskId);
      const child = spawn({ mode: 'long', taskId });
      await child.next('ready');
      const watcher = await watch(stream);
      const send = await open(watcher);
      // Cancel mid-work: once tokens stream, a tool call and a token stream have both been in flight.
      await watcher.until(() => watcher.events.some((e) => e.type === 'message:delta'));

      const sent = now();
      const reply = await send({ type: 'cancel', stream, reason: 'changed my mind' });
      const acked = now();
      assert.ok(reply.ok, `${JSON.stringify(reply)}; producer said: ${JSON.stringify(child.lines)}`);
      const aborted = await child.next('aborted');
      await child.next('stopped');
      console.log(
        `# cancel over ${name}: signal fired ${(aborted.at - sent).toFixed(1)} ms after the cancel call; ` +
          `ack after ${(acked - sent).toFixed(1)} ms`,
      );
      assert.match(String(aborted.reason), /cancelled by connection:|cancelled: changed my mind/);

      await watcher.until(() => watcher.events.some((e) => e.type === 'task:cancelled'));
      // Proves an absence: a producer that kept going would publish within this window.
      await letTimePass(300);
      const events: AnyEnvelope[] = (await gw.engine.read(stream, 0, 10_000)).events;
      const last = events.at(-1)!;
      assert.equal(
        last.type,
        'task:cancelled',
        `nothing after the cancel; tail: ${events
          .slice(-4)
          .map((e) => e.type)
          .join(', ')}`,
      );
      assert.equal((last.data as { reason?: string }).reason, 'changed my mind');
      assert.ok(
        events.some((e) => e.type === 'message:delta'),
        'it was streaming tokens before',
      );
      const state = (await gw.engine.read(stream, 0, 1)).events[0];
      assert.equal(state?.type, 'task:start');
      watcher.close();
    });
  }

  it('two watchers race to answer: exactly one wins, the other gets question_closed, the answer records who', async () => {
    const taskId = 'race';
    const stream = taskStream(taskId);
    const child = spawn({ mode: 'ask', taskId });
    await child.next('ready');
    const alice = await watch(stream);
    const bob = await WsProbe.open(gw.wsUrl);
    await alice.until(() => alice.events.some((e) => e.type === 'question:asked'));
    const questionId = (alice.events.find((e) => e.type === 'question:asked')!.data as { questionId: string })
      .questionId;

    const invalid = await commandOverWs(bob, { type: 'answer', stream, questionId, answer: 'sideways' });
    assert.equal((invalid as { code: string }).code, 'invalid_answer');
    const sent = now();
    const replies = await Promise.all([
      commandOverWs(alice, { type: 'answer', stream, questionId, answer: 'thorough' }),
      commandOverWs(bob, { type: 'answer', stream, questionId, answer: 'quick' }),
    ]);
    assert.equal(replies.filter((r) => r.ok).length, 1, JSON.stringify(replies));
    assert.equal((replies.find((r) => !r.ok) as { code: string }).code, 'question_closed');
    const winner = replies[0]!.ok ? alice : bob;
    const winning = replies[0]!.ok ? 'thorough' : 'quick';
    const by = `connection:${winner.find('hello')!.connection}`;

    const answered = await child.next('answered');
    console.log(
      `# answer reached the remote ask() ${(answered.at - sent).toFixed(1)} ms after the two answers were sent`,
    );
    assert.deepEqual(answered.result, { timedOut: false, questionId, answer: winning, by });
    await alice.until(() => alice.events.some((e) => e.type === 'task:complete'));
    const recorded = alice.events.filter((e) => e.type === 'question:answered');
    assert.equal(recorded.length, 1);
    assert.deepEqual(recorded[0]!.data, { questionId, answer: winning, by });
    alice.close();
    bob.close();
  });

  it('chat messages reach the producer in order', async () => {
    const stream = 'task:chat';
    const child = spawn({ mode: 'chat', taskId: 'chat' });
    await child.next('ready');
    const watcher = await watch(stream);
    const texts = ['one', 'two', 'three', 'four', 'bye'];
    const replies = await Promise.all(
      texts.map((text) => commandOverWs(watcher, { type: 'message', stream, text })),
    );
    assert.ok(replies.every((r) => r.ok));
    await child.next('exit');
    assert.deepEqual(
      child.lines.filter((l) => l.event === 'message').map((l) => l.text),
      texts,
    );
    await watcher.until(() => watcher.events.some((e) => e.type === 'task:complete'));
    assert.deepEqual(
      watcher.events.filter((e) => e.type === 'chat:message').map((e) => (e.data as { text: string }).text),
      texts,
    );
    watcher.close();
  });

  it('a producer killed with SIGKILL leaves its task marked orphaned within the configured time', async () => {
    const stream = 'task:killed';
    const child = spawn({ mode: 'hang', taskId: 'killed' });
    await child.next('ready');
    const watcher = await watch(stream);
    const killed = now();
    await child.kill('SIGKILL');
    await watcher.until(() => watcher.events.some((e) => e.type === 'task:failed'), 5_000);
    const failed = watcher.events.find((e) => e.type === 'task:failed')!;
    console.log(
      `# SIGKILLed producer's task marked orphaned ${(now() - killed).toFixed(0)} ms after the kill (orphanAfterMs 1000)`,
    );
    assert.equal((failed.data as { reason?: string }).reason, 'orphaned');
    assert.match((failed.data as { error: { message: string } }).error.message, /stopped responding/);
    watcher.close();
  });

  it('starts: no_worker at once, two worker processes share the starts, a started task can be cancelled', async () => {
    const t0 = now();
    const none = await commandOverHttp(gw.url, { type: 'start', kind: 'research', input: {} });
    assert.equal((none as { code: string }).code, 'no_worker');
    console.log(`# start with no worker refused in ${(now() - t0).toFixed(1)} ms`);

    const w1 = spawn({ mode: 'worker', name: 'w1', kinds: ['research'] });
    const w2 = spawn({ mode: 'worker', name: 'w2', kinds: ['research'] });
    await Promise.all([
      w1.next('channel', (l) => l.status === 'connected'),
      w2.next('channel', (l) => l.status === 'connected'),
    ]);
    const watcher = await WsProbe.open(gw.wsUrl);
    const started: { taskId: string; stream: string; worker: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await commandOverWs(watcher, {
        type: 'start',
        kind: 'research',
        title: `job ${i}`,
        input: { ms: 60_000, i },
      });
      assert.ok(r.ok, JSON.stringify(r));
      started.push(r.result as (typeof started)[number]);
    }
    const viaHttp = await fetch(`${gw.url}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'over HTTP', kind: 'research', input: { ms: 60_000 } }),
    });
    assert.equal(viaHttp.status, 201);
    started.push((await viaHttp.json()) as (typeof started)[number]);
    const per = new Map<string, number>();
    for (const s of started) per.set(s.worker, (per.get(s.worker) ?? 0) + 1);
    console.log(`# 5 starts over two workers: ${JSON.stringify(Object.fromEntries(per))}`);
    assert.equal(per.size, 2, 'both workers got starts');
    assert.ok(Math.abs([...per.values()][0]! - [...per.values()][1]!) <= 1, 'shared evenly');
    for (const s of started) {
      const child = [w1, w2].find((w) => w.lines.some((l) => l.event === 'started' && l.taskId === s.taskId));
      assert.ok(child, `task ${s.taskId} runs in a worker process`);
    }
    const { stream } = started[0]!;
    const cancelled = await commandOverWs(watcher, { type: 'cancel', stream, reason: 'enough' });
    assert.ok(cancelled.ok);
    const events = (await gw.engine.read(stream, 0, 100)).events.map((e) => e.type);
    assert.deepEqual(
      events,
      ['task:start', 'task:cancelled'],
      'the worker neither completed nor failed the cancelled task',
    );
    watcher.close();
  });

  it('commands sent while the producer is cut off are delivered once it is back, once each, even when an ack was lost', async () => {
    const proxy = await TcpProxy.start(gw.url);
    const received: ChatMessage[] = [];
    const aw = connect({
      url: gw.url,
      commands: new WebSocketChannel({ url: proxy.url, reconnect: { minDelayMs: 20, maxDelayMs: 100 } }),
    });
    try {
      const task = await aw.startTask({ title: 'Flaky link', taskId: 'flaky' });
      task.onMessage((m) => void received.push(m));
      const watcher = await WsProbe.open(gw.wsUrl);
      const stream = task.stream;
      await waitUntil(() => aw.commandStatus === 'connected', 'the command channel to connect');

      // Lost ack: the producer gets the message, but its ack never reaches the gateway.
      proxy.blackhole();
      const first = commandOverWs(watcher, { type: 'message', stream, text: 'first' });
      await waitUntil(() => received.length === 1, 'the first message');
      proxy.cut();
      // While it is away, more commands queue at the gateway.
      await waitUntil(() => aw.commandStatus !== 'connected', 'the producer to notice the cut');
      const queued = ['second', 'third'].map((text) =>
        commandOverWs(watcher, { type: 'message', stream, text }),
      );
      // Proves an absence: nothing queued reaches the producer while its link is down.
      await letTimePass(100);
      assert.equal(received.length, 1);
      const cutAt = now();
      proxy.restore();
      const replies = await Promise.all([first, ...queued]);
      console.log(
        `# after the link came back, the queued commands were acknowledged within ${(now() - cutAt).toFixed(0)} ms`,
      );
      assert.ok(
        replies.every((r) => r.ok),
        JSON.stringify(replies),
      );
      assert.deepEqual(
        received.map((m) => m.text),
        ['first', 'second', 'third'],
        'each once, in order: the resent "first" was recognised by its id',
      );
      assert.ok(proxy.connections >= 2, 'it really reconnected');
      await task.complete();
      watcher.close();
    } finally {
      await aw.close();
      await proxy.close();
    }
  });
});

/** A Socket.IO dialect's ack (`{ok, result}` or `{ok: false, error}`) as a Reply. */
function fromSio(ack: unknown): Reply {
  const a = ack as { ok?: boolean; result?: unknown; error?: { code: string; message: string } };
  return a.ok === true
    ? { ok: true, result: a.result }
    : { ok: false, code: a.error?.code ?? 'internal', message: a.error?.message ?? JSON.stringify(ack) };
}
