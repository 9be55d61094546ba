import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { AgentwireError, reduceTaskEvents, taskStream } from '@agentwire/protocol';
import { connect } from './connect.js';
import { MemoryPublisher } from './testing/memory-publisher.js';
import { waitUntil } from './testing/wait.js';

const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };

async function* tokens(...parts: string[]): AsyncGenerator<string> {
  for (const p of parts) {
    await new Promise((r) => setImmediate(r));
    yield p;
  }
}

test('a whole task folds into the state watchers expect', async () => {
  const store = new MemoryPublisher();
  const aw = connect({ publisher: store });
  const task = await aw.startTask({
    title: 'Compare vector databases',
    projectId: 'acme',
    kind: 'research',
    input: { depth: 2 },
    stages: ['planning', 'research', 'synthesis'],
    estimatedMs: 30_000,
  });
  assert.match(task.id, /^[0-9a-f-]{36}$/);
  assert.equal(task.stream, taskStream(task.id));
  assert.equal(task.projectId, 'acme');

  await task.stage('planning');
  const planner = await task.spawnAgent({ name: 'planner', role: 'plans', model: 'claude-sonnet-4' });
  const researcher = await task.spawnAgent({ name: 'researcher', parent: planner });
  await researcher.progress({ status: 'thinking', activity: 'reading sources', percent: 40 });

  const hits = await researcher.tool('search', { q: 'pgvector vs qdrant' }, async (signal) => {
    assert.equal(signal, researcher.signal, "the agent's signal, which aborts with the task's");
    // The tool's own work, which takes real time: its tool:complete reports how long (checked below).
    await new Promise((r) => setTimeout(r, 15));
    return ['a', 'b'];
  });
  assert.deepEqual(hits, ['a', 'b']);

  const boom = new Error('upstream 502');
  await assert.rejects(
    researcher.tool('fetch', { url: 'https://x' }, () => Promise.reject(boom), { retryable: () => true }),
    (err) => err === boom,
  );
  await researcher.tool('fetch', { url: 'https://x' }, () => 'ok', { attempt: 2 });

  const call = await researcher.startTool('code_run', { code: '1+1' });
  await call.complete({ stdout: '2' });

  const text = await researcher.streamMessage(tokens('Qdrant ', 'wins ', '', 'on recall.'));
  assert.equal(text, 'Qdrant wins on recall.');
  const msg = await planner.startMessage({ role: 'assistant' });
  await msg.delta('Plan: ');
  await msg.delta('three steps.');
  await msg.end();

  await researcher.recall({ query: 'past evals', memories: [{ content: 'HNSW beats IVF', score: 0.91 }] });
  await researcher.log('warn', 'rate limited', { retryInMs: 200 });
  await task.log('info', 'task-level note');
  await task.custom('cost', { usd: 0.12 });
  await task.progress({ percent: 70, message: 'synthesising' });
  await researcher.complete({ findings: 1 });
  const synth = await task.spawnAgent({ name: 'synthesizer', parent: planner.id });
  await planner.handoff(synth, 'research done', { findings: 1 });
  await planner.complete();
  await synth.fail(new Error('context window exceeded'));
  const lastSeq = await task.complete({ answer: 'Qdrant' }, { summary: 'Use Qdrant' });

  const events = store.stream(task.stream);
  assert.equal(lastSeq, events.length, 'methods resolve with the stored seq');
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
  );
  const state = reduceTaskEvents(events)!;
  assert.equal(state.title, 'Compare vector databases');
  assert.equal(state.status, 'completed');
  assert.equal(state.summary, 'Use Qdrant');
  assert.deepEqual(state.stages, ['planning', 'research', 'synthesis']);
  assert.equal(state.stage, 'planning');
  assert.deepEqual(
    state.agentOrder.map((id) => state.agents[id]!.name),
    ['planner', 'researcher', 'synthesizer'],
  );
  assert.equal(state.agents[researcher.id]!.parentId, planner.id);
  assert.equal(state.agents[synth.id]!.parentId, planner.id);
  assert.equal(state.agents[researcher.id]!.status, 'completed');
  assert.equal(state.agents[synth.id]!.status, 'failed');
  assert.equal(state.agents[synth.id]!.error?.message, 'context window exceeded');
  assert.equal(state.agents[planner.id]!.model, 'claude-sonnet-4');

  const tools = state.toolOrder.map((id) => state.tools[id]!);
  assert.deepEqual(
    tools.map((t) => [t.tool, t.status, t.attempt]),
    [
      ['search', 'completed', undefined],
      ['fetch', 'failed', undefined],
      ['fetch', 'completed', 2],
      ['code_run', 'completed', undefined],
    ],
  );
  assert.ok(tools[0]!.durationMs! >= 10, `search took ${tools[0]!.durationMs} ms`);
  assert.deepEqual(tools[0]!.result, ['a', 'b']);
  assert.equal(tools[1]!.error?.message, 'upstream 502');
  const failed = events.find((e) => e.type === 'tool:failed');
  assert.equal(failed?.type === 'tool:failed' && failed.data.retryable, true);

  const messages = state.messageOrder.map((id) => state.messages[id]!);
  assert.deepEqual(
    messages.map((m) => [m.agentId, m.text, m.done]),
    [
      [researcher.id, 'Qdrant wins on recall.', true],
      [planner.id, 'Plan: three steps.', true],
    ],
  );
  assert.equal(state.memoriesRecalled, 1);
  assert.deepEqual(
    state.logs.map((l) => [l.level, l.message, l.agentId]),
    [
      ['warn', 'rate limited', researcher.id],
      ['info', 'task-level note', undefined],
    ],
  );
  const handoff = events.find((e) => e.type === 'agent:handoff');
  assert.deepEqual(handoff?.data, {
    from: planner.id,
    to: synth.id,
    reason: 'research done',
    context: { findings: 1 },
  });
  await aw.close();
});

test('cancel() publishes task:cancelled and aborts the signal tools receive', async () => {
  const store = new MemoryPublisher();
  const aw = connect({ publisher: store });
  const task = await aw.startTask({ title: 'Long job' });
  const agent = await task.spawnAgent({ name: 'worker' });
  let started = false;
  const running = agent.tool('crawl', {}, (signal) => {
    started = true;
    return new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
  });
  await waitUntil(() => started, 'the tool to run');
  assert.equal(task.signal.aborted, false);
  await task.cancel({ reason: 'user asked', by: 'alice' });
  assert.equal(task.signal.aborted, true);
  await assert.rejects(running, { name: 'AbortError', message: 'user asked' });
  await aw.flush();
  const state = reduceTaskEvents(store.stream(task.stream))!;
  assert.equal(state.status, 'cancelled');
  assert.equal(state.cancelledBy, 'alice');
  // The cancel closes the interrupted call as cancelled; the SDK adds no tool:failed after it.
  assert.equal(state.tools[state.toolOrder[0]!]!.status, 'cancelled');
});

test('a failing token source still ends the message, and its error is rethrown', async () => {
  const store = new MemoryPublisher();
  const aw = connect({ publisher: store });
  const task = await aw.startTask({ title: 'Stream' });
  const agent = await task.spawnAgent({ name: 'writer' });
  async function* broken(): AsyncGenerator<string> {
    yield 'Hello';
    throw new Error('model disconnected');
  }
  await assert.rejects(agent.streamMessage(broken()), { message: 'model disconnected' });
  assert.deepEqual(store.types(task.stream).slice(-3), ['message:start', 'message:delta', 'message:end']);
});

test('a long token stream runs ahead of a slow publisher in bounded batches, in order', async () => {
  const store = new MemoryPublisher();
  const aw = connect({ publisher: store });
  const task = await aw.startTask({ title: 'Many tokens' });
  const agent = await task.spawnAgent({ name: 'writer' });
  // Slower than the token source: each publish yields to the event loop before it is stored.
  store.before = () => nextTurn();
  const parts = Array.from({ length: 500 }, (_, i) => `t${i} `);
  const text = await agent.streamMessage(parts);
  assert.equal(text, parts.join(''));
  const state = reduceTaskEvents(store.stream(task.stream))!;
  assert.equal(state.messages[state.messageOrder[0]!]!.text, parts.join(''));
  const sizes = store.batches.slice(2).map((b) => b.ids.length);
  assert.ok(sizes.length < 30, `${sizes.length} batches for 502 events`);
  assert.ok(Math.max(...sizes) <= 65, `the delta window bounds a batch, got ${Math.max(...sizes)}`);
});

test('typed errors from an in-process publisher are retried with the same ids; other throws are not', async () => {
  const store = new MemoryPublisher();
  const seen: string[][] = [];
  let failures = 2;
  store.before = (_stream, events) => {
    seen.push(events.map((e) => e.id!));
    if (failures-- > 0) throw new AgentwireError('unavailable', 'log not open yet');
  };
  const aw = connect({ publisher: store, retry: fastRetry });
  const task = await aw.startTask({ title: 'Retry in process' });
  assert.equal(seen.length, 3);
  assert.deepEqual(seen[0], seen[2]);
  assert.deepEqual(store.types(task.stream), ['task:start']);

  store.before = () => {
    throw new TypeError('cannot read properties of undefined');
  };
  const calls = seen.length;
  await assert.rejects(task.log('info', 'x'), (err: unknown) => {
    assert.ok(err instanceof AgentwireError);
    assert.equal(err.code, 'internal');
    assert.match(err.message, /cannot read properties/);
    return true;
  });
  assert.equal(seen.length, calls, 'the bug was not retried');
});

test('events of different streams do not wait for each other', async () => {
  const store = new MemoryPublisher();
  const aw = connect({ publisher: store, retry: { baseDelayMs: 30, maxDelayMs: 30 } });
  const slow = await aw.startTask({ title: 'slow' });
  const fast = await aw.startTask({ title: 'fast' });
  store.before = (stream) => {
    if (stream === slow.stream) throw new AgentwireError('unavailable', 'try later');
  };
  const slowLog = slow.log('info', 'stuck');
  await fast.log('info', 'not stuck');
  assert.deepEqual(store.types(fast.stream), ['task:start', 'log:entry']);
  assert.deepEqual(store.types(slow.stream), ['task:start'], 'the slow stream is still retrying');
  store.before = undefined;
  await slowLog;
  assert.deepEqual(store.types(slow.stream), ['task:start', 'log:entry']);
});

test('connect() without a url or a publisher is refused at once', () => {
  assert.throws(() => connect({} as never), TypeError);
});

test('a caller-chosen task id must make a valid stream name', async () => {
  const aw = connect({ publisher: new MemoryPublisher() });
  await assert.rejects(aw.startTask({ title: 'x', taskId: 'has spaces' }), { code: 'invalid_stream' });
  const task = await aw.startTask({ title: 'x', taskId: 'job-7' });
  assert.equal(task.stream, 'task:job-7');
});

test('error objects become ErrorInfo without stacks; long messages are clipped, codes kept', async () => {
  const store = new MemoryPublisher();
  const aw = connect({ publisher: store });
  const task = await aw.startTask({ title: 'Errors' });
  const err = Object.assign(new Error('x'.repeat(5_000)), { code: 'ECONNRESET' });
  await task.fail(err, { reason: 'error' });
  const last = store.stream(task.stream).at(-1)!;
  assert.equal(last.type, 'task:failed');
  const info = (last.data as { error: { message: string; code?: string; stack?: string } }).error;
  assert.equal(info.code, 'ECONNRESET');
  assert.equal(info.message.length, 4_000);
  assert.equal(info.stack, undefined);
});

test('publish() sends raw events to any stream, honouring caller ids as idempotency keys', async () => {
  const store = new MemoryPublisher();
  const aw = connect({ publisher: store });
  const acks = await aw.publish('project:acme', [
    { id: 'deploy-1', type: 'custom:event', data: { name: 'deploy', payload: { version: '1.2.0' } } },
    { type: 'system:alert', data: { severity: 'warning', message: 'disk 85%' } },
  ]);
  assert.deepEqual(
    acks.map((a) => [a.seq, a.duplicate]),
    [
      [1, false],
      [2, false],
    ],
  );
  assert.equal(acks[0]!.id, 'deploy-1');
  const again = await aw.publish('project:acme', [
    { id: 'deploy-1', type: 'custom:event', data: { name: 'deploy', payload: { version: '1.2.0' } } },
  ]);
  assert.deepEqual(again, [{ id: 'deploy-1', seq: 1, duplicate: true }]);

  await assert.rejects(aw.publish('not a stream', []), { code: 'invalid_stream' });
  await assert.rejects(
    aw.publish('project:acme', [
      { type: 'custom:event', data: { name: 'fine' } },
      { type: 'tool:complete', data: { callId: 'c1' } } as never,
    ]),
    (err: unknown) =>
      err instanceof AgentwireError && err.code === 'invalid_payload' && /^events\[1\]/.test(err.message),
  );
  assert.equal(store.stream('project:acme').length, 2, 'nothing from the refused batch was queued');
});
