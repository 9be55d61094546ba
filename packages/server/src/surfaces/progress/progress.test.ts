import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { createGateway, type Gateway } from '../../gateway.js';
import { RecordingRouter } from '../../testing/recording-router.js';
import { SioProbe } from '../../testing/sio-probe.js';

const PATH = '/progress/socket.io';

/** Seed 002's client: connect with the request id, and rejoin on every connect to restore the page. */
async function guideClient(gw: Gateway, requestId: string): Promise<SioProbe> {
  const p = await SioProbe.open(gw.url, { path: PATH, query: { requestId } });
  p.socket.emit('rejoin', { requestId });
  await p.waitFor('state');
  return p;
}

const strip = <T extends Record<string, unknown>>(payload: T) => {
  const { seq, ...rest } = payload;
  assert.equal(typeof seq, 'number');
  return rest;
};

describe('progress dialect (seed 002) with socket.io-client', () => {
  let gw: Gateway;
  let aw: Producer;
  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent' });
    aw = connect({ url: gw.url });
  });
  after(async () => {
    await aw.close();
    await gw.close();
  });

  it("streams a request's steps as progress, agent.completed, error and request.completed", async () => {
    const requestId = 'req-123';
    const p = await guideClient(gw, requestId);
    assert.deepEqual(p.of('state')[0], {
      type: 'state',
      requestId,
      seq: 0,
      epoch: p.of('state')[0]!.epoch,
      status: 'pending',
      agents: [],
      steps: [],
      questions: [],
      task: null,
    });

    const task = await aw.startTask({ taskId: requestId, title: 'Plan a trip' });
    const thought = await task.spawnAgent({ name: 'thought-agent', agentId: 'thought' });
    await thought.complete({ plan: ['search', 'book'] });
    const executor = await task.spawnAgent({ name: 'executor-agent', agentId: 'exec' });
    await executor.tool('search', { q: 'flights' }, async () => 'found 3', { callId: 'step-a' });
    await executor
      .tool('book', { id: 1 }, async () => Promise.reject(new Error('sold out')), { callId: 'step-b' })
      .catch(() => {});
    await task.complete({ booked: false });
    await p.until(() => p.of('request.completed').length === 1);

    assert.deepEqual(p.names().slice(1), [
      'progress',
      'agent.completed',
      'progress',
      'progress',
      'progress',
      'progress',
      'progress',
      'error',
      'request.completed',
    ]);
    const progress = p.of('progress').map(strip);
    assert.deepEqual(progress, [
      {
        type: 'progress',
        agent: 'thought-agent',
        step: null,
        status: 'running',
        data: { event: 'agent:spawned', agentId: 'thought' },
        requestId,
      },
      {
        type: 'progress',
        agent: 'executor-agent',
        step: null,
        status: 'running',
        data: { event: 'agent:spawned', agentId: 'exec' },
        requestId,
      },
      {
        type: 'progress',
        agent: 'executor-agent',
        step: 1,
        status: 'running',
        data: {
          event: 'tool:executing',
          stepId: 'step-a',
          stepOrder: 1,
          tool: 'search',
          args: { q: 'flights' },
        },
        requestId,
      },
      {
        type: 'progress',
        agent: 'executor-agent',
        step: 1,
        status: 'completed',
        data: {
          event: 'tool:complete',
          stepId: 'step-a',
          stepOrder: 1,
          tool: 'search',
          result: 'found 3',
          durationMs: (progress[3]!.data as { durationMs: number }).durationMs,
        },
        requestId,
      },
      {
        type: 'progress',
        agent: 'executor-agent',
        step: 2,
        status: 'running',
        data: { event: 'tool:executing', stepId: 'step-b', stepOrder: 2, tool: 'book', args: { id: 1 } },
        requestId,
      },
      {
        type: 'progress',
        agent: 'executor-agent',
        step: 2,
        status: 'failed',
        data: {
          event: 'tool:failed',
          stepId: 'step-b',
          stepOrder: 2,
          tool: 'book',
          error: (progress[5]!.data as { error: unknown }).error,
        },
        requestId,
      },
    ]);
    assert.equal((progress[5]!.data as { error: { message: string } }).error.message, 'sold out');
    assert.deepEqual(strip(p.of('agent.completed')[0]!), {
      type: 'agent.completed',
      agent: 'thought-agent',
      requestId,
      data: { agentId: 'thought', result: { plan: ['search', 'book'] } },
    });
    assert.deepEqual(strip(p.of('error')[0]!), {
      type: 'error',
      agent: 'executor-agent',
      message: 'sold out',
      step: 2,
      requestId,
    });
    assert.deepEqual(strip(p.of('request.completed')[0]!), {
      type: 'request.completed',
      requestId,
      result: { booked: false },
      status: 'completed',
    });
    p.close();
  });

  it('rejoin answers state with the current snapshot, and the events after it arrive once each', async () => {
    const requestId = 'req-rejoin';
    const first = await guideClient(gw, requestId);
    const task = await aw.startTask({ taskId: requestId, title: 'Long job', stages: ['fetch', 'write'] });
    const agent = await task.spawnAgent({ name: 'executor-agent', model: 'm1' });
    await agent.tool('fetch', {}, async () => 'page', { callId: 's1' });
    await task.emit('question:asked', {
      questionId: 'q-1',
      prompt: 'Proceed?',
      agentId: agent.id,
      options: [{ value: 'yes' }, { value: 'no' }],
    });
    await first.until(() => first.of('question').length === 1);
    assert.deepEqual(strip(first.of('question')[0]!), {
      type: 'question',
      requestId,
      agent: 'executor-agent',
      questionId: 'q-1',
      prompt: 'Proceed?',
      agentId: agent.id,
      options: [{ value: 'yes' }, { value: 'no' }],
    });
    // The page drops; things happen while it is away.
    first.close();
    await task.stage('write');
    await agent.progress({ status: 'writing', percent: 60 });

    const again = await guideClient(gw, requestId);
    const state = again.of('state')[0]!;
    assert.equal(state.status, 'running');
    assert.equal(state.stage, 'write');
    assert.deepEqual(state.agents, [
      {
        agent: 'executor-agent',
        agentId: agent.id,
        model: 'm1',
        status: 'running',
        activity: 'calling fetch',
        percent: 60,
      },
    ]);
    assert.deepEqual(state.steps, [
      { step: 1, agent: 'executor-agent', tool: 'fetch', callId: 's1', status: 'completed', result: 'page' },
    ]);
    assert.deepEqual(state.questions, [
      {
        questionId: 'q-1',
        prompt: 'Proceed?',
        options: [{ value: 'yes' }, { value: 'no' }],
        agentId: agent.id,
      },
    ]);
    assert.equal((state.task as { seq: number }).seq, state.seq);

    await agent.tool('write', {}, async () => 'ok', { callId: 's2' });
    await task.complete('done');
    await again.until(() => again.of('request.completed').length === 1);
    const after = again.received.slice(1).map((r) => (r.payload as { seq: number }).seq);
    assert.ok(
      after.every((seq) => seq > (state.seq as number)),
      'nothing from before the snapshot is repeated',
    );
    assert.deepEqual(
      after,
      [...after].sort((a, b) => a - b),
    );
    assert.deepEqual(
      again.of('progress').map((m) => [m.step, m.status]),
      [
        [2, 'running'],
        [2, 'completed'],
      ],
    );
    // A second rejoin on the same socket starts over from a fresh snapshot.
    const ack = await again.socket.emitWithAck('rejoin', { requestId });
    assert.equal(ack.ok, true);
    await again.until(() => again.of('state').length === 2);
    assert.equal(again.of('state')[1]!.status, 'completed');
    again.close();
  });

  it('start, cancel and feedback reach gateway.commands as start, cancel and answer commands', async () => {
    const router = new RecordingRouter();
    const previous = gw.commands;
    gw.commands = router;
    try {
      const p = await SioProbe.open(gw.url, { path: PATH, query: { requestId: 'req-cmd' } });
      const started = await p.socket.emitWithAck('start', {
        type: 'start',
        requestId: 'req-cmd',
        userQuery: 'Plan a trip',
        context: { budget: 500 },
      });
      assert.deepEqual(started, { ok: true, result: { accepted: 'start' } });
      const cancelled = await p.socket.emitWithAck('cancel', { type: 'cancel', requestId: 'req-cmd' });
      assert.deepEqual(cancelled, { ok: true, result: { accepted: 'cancel' } });
      p.socket.emit('feedback', { type: 'feedback', requestId: 'req-cmd', questionId: 'q-1', answer: 'yes' });
      p.socket.emit('cancel');
      await router.until(4);
      assert.deepEqual(
        router.received.map((r) => r.command),
        [
          {
            type: 'start',
            kind: 'request',
            taskId: 'req-cmd',
            title: 'Plan a trip',
            input: { userQuery: 'Plan a trip', context: { budget: 500 } },
          },
          { type: 'cancel', stream: 'task:req-cmd' },
          { type: 'answer', stream: 'task:req-cmd', questionId: 'q-1', answer: 'yes' },
          { type: 'cancel', stream: 'task:req-cmd' },
        ],
      );
      assert.equal(p.of('error').length, 0);
      p.close();
    } finally {
      gw.commands = previous;
    }
  });

  it("refuses bad input with the guide's error message shape and a code", async () => {
    const p = await SioProbe.open(gw.url, { path: PATH });
    p.socket.emit('feedback', { requestId: 'req-x', answer: 'no question id' });
    p.socket.emit('cancel', {});
    p.socket.emit('rejoin', { requestId: 'not a valid id' });
    p.socket.emit('progress', {});
    await p.until(() => p.of('error').length === 4);
    assert.deepEqual(
      p.of('error').map((e) => [e.type, e.code, e.event]),
      [
        ['error', 'invalid_message', 'feedback'],
        ['error', 'invalid_message', 'cancel'],
        ['error', 'invalid_stream', 'rejoin'],
        ['error', 'unknown_op', 'progress'],
      ],
    );
    p.close();

    const badQuery = await SioProbe.open(gw.url, { path: PATH, query: { requestId: '../etc' } });
    const err = await badQuery.waitFor('error');
    assert.deepEqual([err.code, err.event], ['invalid_stream', 'connect']);
    badQuery.close();
  });
});
