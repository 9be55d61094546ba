import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { createClient, type Client } from '@agentwire/client';
import { isTerminal, reduceTaskEvents, type AnyEnvelope, type TaskState } from '@agentwire/protocol';
import { createGateway, type Gateway } from '@agentwire/server';
import { SeedSocket, waitFor } from '../testing/index.js';
import { DEMO_KINDS, startDemoWorker, type DemoWorker } from './index.js';

type Started = { taskId: string; stream: string; worker: string; seq: number };

/** The task's state and whole history, once it has ended. */
async function ended(gw: Gateway, stream: string): Promise<{ state: TaskState; events: AnyEnvelope[] }> {
  const read = async () => {
    const { events } = await gw.engine.read(stream, 0, 10_000);
    return { state: reduceTaskEvents(events), events };
  };
  let end = () => {};
  const appended = new Promise<void>((resolve) => (end = resolve));
  const off = gw.engine.onAppend((s, events) => {
    if (s === stream && events.some((e) => TERMINAL.has(e.type))) end();
  });
  try {
    let now = await read();
    if (!now.state || !isTerminal(now.state)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        appended,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${stream} did not end`)), 30_000);
        }),
      ]).finally(() => clearTimeout(timer));
      now = await read();
    }
    return { state: now.state!, events: now.events };
  } finally {
    off();
  }
}

const TERMINAL = new Set(['task:complete', 'task:failed', 'task:cancelled']);

/** The in-process command channel connects asynchronously: starts work once the kinds are registered. */
const registered = (gw: Gateway) =>
  waitFor(
    () => gw.producers.workers().some((w) => w.kinds.length === DEMO_KINDS.length),
    'the demo worker to register',
  );

function answerOf(state: TaskState): string {
  return (state.result as { answer?: string } | undefined)?.answer ?? '';
}

describe('the demo worker runs the tasks watchers start', () => {
  let gw: Gateway;
  let aw: Producer;
  let demo: DemoWorker;
  let client: Client;
  before(async () => {
    gw = await createGateway({ port: 0, engine: { kind: 'memory' }, logLevel: 'silent' });
    aw = connect({ publisher: gw });
    demo = startDemoWorker(aw, { speed: 25 });
    client = createClient({ url: gw.url });
    await registered(gw);
  });
  after(async () => {
    await client.close();
    await demo.stop();
    await aw.close();
    await gw.close();
  });

  it('starts from POST /v1/tasks and the native start command run the swarm on the request, to completion', async () => {
    const res = await fetch(`${gw.url}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Plan a team offsite in Lisbon',
        kind: 'research',
        projectId: 'offsite',
      }),
    });
    assert.equal(res.status, 201);
    const viaHttp = (await res.json()) as Started;
    const viaCommand = (await client.command({
      type: 'start',
      kind: 'engineering',
      title: 'Port the billing job',
      input: { prompt: 'Port the nightly billing job from cron to a queue' },
    })) as Started;

    // The starter watches: a subscription from the task's start sees it to the end.
    const sub = client.subscribe(viaCommand.stream, { since: { seq: 0 } });
    const seen: AnyEnvelope[] = [];
    sub.onEvent((e) => seen.push(e));
    await waitFor(() => sub.state !== undefined && isTerminal(sub.state), 'the watched task to end', 30_000);
    sub.close();

    const http = await ended(gw, viaHttp.stream);
    assert.equal(http.state.status, 'completed');
    assert.equal(http.state.title, 'Plan a team offsite in Lisbon');
    assert.equal(http.state.kind, 'research');
    assert.equal(http.state.projectId, 'offsite');
    assert.match(answerOf(http.state), /Plan a team offsite in Lisbon/, 'the answer is built from the title');

    const command = await ended(gw, viaCommand.stream);
    assert.equal(command.state.status, 'completed');
    assert.equal(command.state.title, 'Port the billing job');
    assert.match(answerOf(command.state), /Port the nightly billing job from cron to a queue/);
    assert.deepEqual(
      seen.map((e) => e.seq),
      command.events.map((e) => e.seq),
      'the watcher saw every event',
    );
    for (const { state } of [http, command]) {
      const names = state.agentOrder.map((id) => state.agents[id]!.name);
      assert.equal(names[0], 'planner');
      assert.equal(names.at(-1), 'synthesizer');
      assert.ok(names.filter((n) => n.startsWith('researcher-')).length >= 2, names.join(', '));
      assert.ok(state.toolOrder.length >= 4, `${state.toolOrder.length} tool calls`);
    }
  });

  it("starts from seed 000's start_agent_task (kind agent) and seed 002's start (kind request), watched by the starter", async () => {
    const mage = await SeedSocket.open(gw.url, { path: '/mageagent/socket.io' });
    const progress = await SeedSocket.open(gw.url, {
      path: '/progress/socket.io',
      query: { requestId: 'req-demo-1' },
    });
    try {
      const ack = (await mage.socket.emitWithAck('start_agent_task', {
        task: 'Summarize the feedback from the beta',
      })) as { ok: boolean; result: Started };
      assert.equal(ack.ok, true, JSON.stringify(ack));
      await mage.socket.emitWithAck('subscribe', { room: ack.result.stream });
      const started = await progress.socket.emitWithAck('start', {
        requestId: 'req-demo-1',
        userQuery: 'Which regions should we launch in first?',
      });
      assert.deepEqual((started as { ok: boolean }).ok, true, JSON.stringify(started));

      const done = await mage.waitFor('task:complete', (p) => p.taskId === ack.result.taskId, 30_000);
      assert.match(
        String((done.result as { answer: string }).answer),
        /Summarize the feedback from the beta/,
      );
      assert.ok(mage.of('agent:spawned').length >= 4, 'the starter saw the agents');
      assert.ok(mage.of('tool:executing').length >= 4, 'and their tool calls');

      const completed = await progress.waitFor('request.completed', () => true, 30_000);
      assert.equal(completed.status, 'completed');
      assert.match(JSON.stringify(completed.result), /Which regions should we launch in first/);
      assert.ok(progress.of('progress').length >= 10, 'the starter saw the steps');

      assert.equal((await ended(gw, ack.result.stream)).state.kind, 'agent');
      assert.equal((await ended(gw, 'task:req-demo-1')).state.kind, 'request');
    } finally {
      mage.close();
      progress.close();
    }
  });

  it("cancel stops a started task: its agents stop and it ends cancelled (seed 002's cancel)", async () => {
    const progress = await SeedSocket.open(gw.url, {
      path: '/progress/socket.io',
      query: { requestId: 'req-demo-cancel' },
    });
    try {
      await progress.socket.emitWithAck('start', {
        requestId: 'req-demo-cancel',
        userQuery: 'Rewrite it all',
      });
      await progress.waitFor(
        'progress',
        (p) => (p.data as { tool?: string } | undefined)?.tool !== undefined,
      );
      const ack = await progress.socket.emitWithAck('cancel', {
        requestId: 'req-demo-cancel',
        reason: 'enough',
      });
      assert.equal((ack as { ok: boolean }).ok, true, JSON.stringify(ack));
      const completed = await progress.waitFor('request.completed');
      assert.equal(completed.status, 'cancelled');
      const { state } = await ended(gw, 'task:req-demo-cancel');
      assert.equal(state.status, 'cancelled');
      // A whole task later, still nothing after the cancel: the swarm stopped, not just its stream.
      const next = (await client.command({ type: 'start', kind: 'request', title: 'Next' })) as Started;
      assert.equal((await ended(gw, next.stream)).state.status, 'completed');
      const { events } = await gw.engine.read('task:req-demo-cancel', 0, 10_000);
      assert.equal(events.at(-1)!.type, 'task:cancelled');
      assert.equal((events.at(-1)!.data as { by?: string }).by !== 'demo', true, 'cancelled by the watcher');
    } finally {
      progress.close();
    }
  });

  it('handles the kinds it lists, and an unknown kind gets no_worker', async () => {
    assert.deepEqual([...DEMO_KINDS].sort(), ['agent', 'analysis', 'engineering', 'request', 'research']);
    const workers = gw.producers.workers();
    assert.deepEqual([...(workers[0]?.kinds ?? [])].sort(), [...DEMO_KINDS].sort());
    const res = await fetch(`${gw.url}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'A sonnet', kind: 'poetry' }),
    });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'no_worker');
    const mage = await SeedSocket.open(gw.url, { path: '/mageagent/socket.io' });
    try {
      const ack = (await mage.socket.emitWithAck('start_agent_task', { task: 'x', agentType: 'poet' })) as {
        ok: boolean;
        error: { code: string };
      };
      assert.deepEqual([ack.ok, ack.error.code], [false, 'no_worker']);
    } finally {
      mage.close();
    }
  });
});

it("the demo's stop cancels the started tasks still running and takes no more starts", async () => {
  const gw = await createGateway({ port: 0, engine: { kind: 'memory' }, logLevel: 'silent' });
  const aw = connect({ publisher: gw });
  const demo = startDemoWorker(aw, { speed: 2 });
  try {
    await registered(gw);
    const started = (await gw.commands.dispatch(
      { type: 'start', kind: 'agent', title: 'A long one' },
      { subject: 'tester' },
    )) as Started;
    await demo.stop();
    const { state, events } = await ended(gw, started.stream);
    assert.equal(state.status, 'cancelled');
    assert.equal((events.at(-1)!.data as { by?: string }).by, 'demo');
    await assert.rejects(
      gw.commands.dispatch({ type: 'start', kind: 'agent', title: 'Too late' }, { subject: 'tester' }),
      (err: { code?: string }) => err.code === 'no_worker',
    );
  } finally {
    await aw.close();
    await gw.close();
  }
});
