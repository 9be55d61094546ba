import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { AgentwireError, taskStream } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../../gateway.js';
import { RecordingRouter } from '../../testing/recording-router.js';
import { SioProbe } from '../../testing/sio-probe.js';
import { letTimePass } from '../../testing/wait.js';

const PATH = '/mageagent/socket.io';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A payload without the fields that differ run to run, after checking their shape. */
function stable(payload: Record<string, unknown>): Record<string, unknown> {
  const { timestamp, seq, ...rest } = payload;
  assert.match(String(timestamp), ISO);
  assert.equal(typeof seq, 'number');
  return rest;
}

describe('mageagent dialect (seeds 000/001) with socket.io-client', () => {
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

  it("answers seed 000's handshake check: GET <path>/?EIO=4&transport=polling is 200", async () => {
    const res = await fetch(`${gw.url}${PATH}/?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.match(body, /^0\{"sid":"[^"]+","upgrades":\["websocket"\]/);
  });

  it("emits the frontend's event names with structured payloads, and the seed server's agent_stream and orchestration_update", async () => {
    const p = await SioProbe.open(gw.url, { path: PATH });
    const taskId = 'mage-live';
    const ack = await p.socket.emitWithAck('subscribe', { room: taskStream(taskId) });
    assert.deepEqual(
      { ...ack, epoch: undefined },
      {
        ok: true,
        room: taskStream(taskId),
        stream: taskStream(taskId),
        epoch: undefined,
        seq: 0,
        recovered: true,
      },
    );

    const task = await aw.startTask({ taskId, title: 'Research the market', kind: 'research' });
    const agent = await task.spawnAgent({ name: 'planner', model: 'gpt-4o', role: 'planning' });
    await agent.progress({ status: 'thinking', percent: 10 });
    await agent.tool('web_search', { q: 'market size' }, async () => ['r1', 'r2'], { callId: 'call-1' });
    await agent.recall({ query: 'prior research', memories: [{ content: 'last year: 4%', score: 0.9 }] });
    await task.progress({ percent: 50, message: 'Halfway there' });
    await agent.complete({ ok: true }, { summary: 'planned' });
    await task.complete({ answer: 42 }, { summary: 'done' });
    await p.until(() => p.of('task:complete').length === 1);

    assert.deepEqual(p.names(), [
      'task:start',
      'agent:spawned',
      'agent_stream',
      'agent:progress',
      'agent_stream',
      'tool:executing',
      'tool:complete',
      'memory:recalled',
      'task:progress',
      'orchestration_update',
      'agent:complete',
      'agent_stream',
      'task:complete',
    ]);
    const agentId = agent.id;
    assert.deepEqual(stable(p.of('task:start')[0]!), {
      taskId,
      title: 'Research the market',
      kind: 'research',
      status: 'running',
    });
    assert.deepEqual(stable(p.of('agent:spawned')[0]!), {
      taskId,
      agentId,
      name: 'planner',
      model: 'gpt-4o',
      role: 'planning',
      status: 'spawned',
    });
    assert.deepEqual(stable(p.of('agent:progress')[0]!), {
      taskId,
      agentId,
      name: 'planner',
      model: 'gpt-4o',
      status: 'thinking',
      percent: 10,
    });
    assert.deepEqual(stable(p.of('tool:executing')[0]!), {
      taskId,
      callId: 'call-1',
      tool: 'web_search',
      agentId,
      agentName: 'planner',
      args: { q: 'market size' },
      status: 'executing',
    });
    const toolDone = stable(p.of('tool:complete')[0]!);
    assert.equal(typeof toolDone.durationMs, 'number');
    assert.deepEqual(
      { ...toolDone, durationMs: 0 },
      {
        taskId,
        callId: 'call-1',
        tool: 'web_search',
        agentId,
        agentName: 'planner',
        durationMs: 0,
        result: ['r1', 'r2'],
        status: 'completed',
      },
    );
    assert.deepEqual(stable(p.of('memory:recalled')[0]!), {
      taskId,
      agentId,
      agentName: 'planner',
      query: 'prior research',
      memories: [{ content: 'last year: 4%', score: 0.9 }],
      count: 1,
    });
    assert.deepEqual(stable(p.of('agent:complete')[0]!), {
      taskId,
      agentId,
      name: 'planner',
      model: 'gpt-4o',
      result: { ok: true },
      summary: 'planned',
      status: 'completed',
    });
    assert.deepEqual(stable(p.of('task:complete')[0]!), {
      taskId,
      result: { answer: 42 },
      summary: 'done',
      status: 'completed',
    });

    // The seed server's older messages, now with the agent's name and model in metadata.
    const streams = p.of('agent_stream');
    assert.deepEqual(
      streams.map((s) => [s.type, s.agentId, s.content]),
      [
        ['agent_stream', agentId, 'Agent planner started'],
        ['agent_stream', agentId, 'thinking'],
        ['agent_stream', agentId, 'Agent planner completed'],
      ],
    );
    assert.deepEqual(Object.keys(streams[0]!).sort(), [
      'agentId',
      'content',
      'metadata',
      'timestamp',
      'type',
    ]);
    const meta = streams[0]!.metadata as Record<string, unknown>;
    assert.equal(meta.event, 'agent:spawned');
    assert.equal(meta.name, 'planner');
    assert.equal(meta.model, 'gpt-4o');
    const update = p.of('orchestration_update')[0]!;
    assert.deepEqual(Object.keys(update).sort(), ['agentId', 'message', 'metadata', 'timestamp']);
    assert.equal(update.agentId, null);
    assert.equal(update.message, 'Halfway there');
    assert.equal((update.metadata as Record<string, unknown>).percent, 50);

    // One order for everything: the canonical events' seqs only go up.
    const seqs = p.received
      .filter((r) => r.event.includes(':'))
      .map((r) => (r.payload as { seq: number }).seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    p.close();
  });

  it('replays the snapshot to a late subscriber, marked replay, and reports failures and cancellations as the frontend expects', async () => {
    const taskId = 'mage-late';
    const task = await aw.startTask({ taskId, title: 'Late' });
    const a1 = await task.spawnAgent({ name: 'writer', model: 'claude' });
    const a2 = await task.spawnAgent({ name: 'critic' });
    await a1.tool('draft', {}, async () => 'text', { callId: 'c-draft' });
    await a2.fail(new Error('critic crashed'));
    await task.cancel({ reason: 'user stopped it', by: 'alice' });

    const p = await SioProbe.open(gw.url, { path: PATH });
    await p.socket.emitWithAck('subscribe', { room: taskStream(taskId) });
    await p.until(() => p.of('task:failed').length === 1);
    assert.deepEqual(p.names(), [
      'task:start',
      'agent:spawned',
      'agent:complete',
      'agent:spawned',
      'agent:complete',
      'tool:executing',
      'tool:complete',
      'task:failed',
    ]);
    assert.ok(p.received.every((r) => (r.payload as { replay?: boolean }).replay === true));
    const [writer, critic] = p.of('agent:complete');
    assert.equal(writer!.status, 'cancelled');
    assert.equal(critic!.status, 'failed');
    assert.equal((critic!.error as { message: string }).message, 'critic crashed');
    const failed = p.of('task:failed')[0]!;
    assert.equal(failed.status, 'cancelled');
    assert.equal(failed.reason, 'cancelled');
    assert.deepEqual(failed.error, { message: 'user stopped it', code: 'cancelled' });

    // Live failures after the replay: agent:failed also arrives as agent:complete with status failed.
    const task2 = await aw.startTask({ taskId: 'mage-late-2', title: 'Two' });
    await p.socket.emitWithAck('subscribe', { room: 'task:mage-late-2' });
    const a3 = await task2.spawnAgent({ name: 'runner' });
    await a3.fail(new Error('boom'));
    await p.until(() => p.of('agent:failed').length === 1 && p.of('agent:complete').length === 3);
    assert.equal(p.of('agent:complete')[2]!.status, 'failed');
    assert.equal(p.of('agent_stream').at(-1)!.content, 'Agent runner failed: boom');
    p.close();
  });

  it('honours stop_agent and start_agent_task through gateway.commands, with Socket.IO acks or typed error events', async () => {
    const router = new RecordingRouter((c) =>
      c.type === 'start' ? { taskId: 'started-1' } : { accepted: true },
    );
    const previous = gw.commands;
    gw.commands = router;
    try {
      const p = await SioProbe.open(gw.url, { path: PATH });
      await p.socket.emitWithAck('subscribe', { room: 'task:mage-cmd' });
      const stopped = await p.socket.emitWithAck('stop_agent', { agentId: 'agent-7', reason: 'enough' });
      assert.deepEqual(stopped, { ok: true, result: { accepted: true } });
      const started = await p.socket.emitWithAck('start_agent_task', {
        task: 'Summarize the report',
        agentType: 'summarizer',
        model: 'gpt-4o',
      });
      assert.deepEqual(started, { ok: true, result: { taskId: 'started-1' } });
      assert.deepEqual(
        router.received.map((r) => r.command),
        [
          { type: 'cancel', stream: 'task:mage-cmd', agentId: 'agent-7', reason: 'enough' },
          {
            type: 'start',
            kind: 'summarizer',
            title: 'Summarize the report',
            input: { task: 'Summarize the report', agentType: 'summarizer', model: 'gpt-4o' },
          },
        ],
      );
      assert.equal(router.received[0]!.sender.connection, p.socket.id);

      gw.commands = new RecordingRouter(() => {
        throw new AgentwireError('no_producer', 'Nobody owns task:mage-cmd.');
      });
      const refused = await p.socket.emitWithAck('stop_agent', { taskId: 'mage-cmd' });
      assert.deepEqual(refused, {
        ok: false,
        error: { code: 'no_producer', message: 'Nobody owns task:mage-cmd.' },
      });
      p.socket.emit('stop_agent', { taskId: 'mage-cmd' });
      const error = await p.waitFor('error');
      assert.deepEqual(error, {
        code: 'no_producer',
        message: 'Nobody owns task:mage-cmd.',
        event: 'stop_agent',
      });
      p.close();
    } finally {
      gw.commands = previous;
    }
  });

  it("also answers on the /mageagent namespace, for io('https://gateway/mageagent') with the default path", async () => {
    const p = await SioProbe.open(`${gw.url}/mageagent`, {});
    const ack = await p.socket.emitWithAck('subscribe', { room: 'task:mage-ns' });
    assert.equal(ack.ok, true);
    await gw.publish('task:mage-ns', [{ type: 'agent:spawned', data: { agentId: 'a1', name: 'scout' } }]);
    await p.until(() => p.of('agent_stream').length === 1);
    assert.deepEqual(p.names(), ['agent:spawned', 'agent_stream']);
    assert.equal(p.of('agent:spawned')[0]!.model, null);
    p.close();
  });

  it('refuses malformed messages with typed errors and keeps serving', async () => {
    const p = await SioProbe.open(gw.url, { path: PATH });
    const bad = [
      await p.socket.emitWithAck('subscribe', { room: 42 }),
      await p.socket.emitWithAck('subscribe', 'task:x'),
      await p.socket.emitWithAck('subscribe', { room: 'no spaces allowed' }),
      await p.socket.emitWithAck('stop_agent', { agentId: 'a' }),
      await p.socket.emitWithAck('start_agent_task', { kind: '' }),
      await p.socket.emitWithAck('unsubscribe', { room: 'task:never' }),
      await p.socket.emitWithAck('agent:spawn', {}),
    ];
    assert.deepEqual(
      bad.map((r) => (r as { ok: boolean; error: { code: string } }).error.code),
      [
        'invalid_message',
        'invalid_message',
        'invalid_message',
        'invalid_message',
        'invalid_message',
        'not_subscribed',
        'unknown_op',
      ],
    );
    p.socket.emit('subscribe', null);
    assert.equal((await p.waitFor('error')).code, 'invalid_message');

    const ok = await p.socket.emitWithAck('subscribe', { room: 'task:mage-after-errors' });
    assert.equal(ok.ok, true);
    await gw.publish('task:mage-after-errors', [
      { type: 'task:start', data: { taskId: 'mage-after-errors', title: 'Still here' } },
    ]);
    assert.equal((await p.waitFor('task:start')).title, 'Still here');

    const gone = await p.socket.emitWithAck('unsubscribe', { room: 'task:mage-after-errors' });
    assert.deepEqual(gone, { ok: true, room: 'task:mage-after-errors', stream: 'task:mage-after-errors' });
    await gw.publish('task:mage-after-errors', [{ type: 'task:complete', data: {} }]);
    await letTimePass(100);
    assert.equal(p.of('task:complete').length, 0);
    p.close();
  });
});
