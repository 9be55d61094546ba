import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { EventType, type BaseEvent } from '@ag-ui/core';
import { EventSchema, RunAgentInputSchema } from '@ag-ui/core/schemas';
import { EventEncoder } from '@ag-ui/encoder';
import { AgentwireError, reduceTaskEvents, type TaskState } from '@agentwire/protocol';
import { connect } from '../connect.js';
import { MemoryPublisher } from '../testing/memory-publisher.js';
import { runAgUiAgent } from './bridge.js';
import { fromAgUi } from './from-agui.js';

/**
 * Real AG-UI events: each must pass `@ag-ui/core`'s own schema before it is fed to us (except one
 * of a type the protocol does not have yet, standing for a newer protocol's).
 */
function agui(...events: Record<string, unknown>[]): BaseEvent[] {
  for (const e of events) {
    if (!(Object.values(EventType) as unknown[]).includes(e.type)) continue;
    const parsed = EventSchema.safeParse(e);
    assert.ok(parsed.success, `${String(e.type)} is not AG-UI: ${JSON.stringify(parsed.error?.issues)}`);
  }
  return events as BaseEvent[];
}

async function newTask() {
  const store = new MemoryPublisher();
  const aw = connect({ publisher: store, commands: false });
  const task = await aw.startTask({ title: 'from AG-UI' });
  const state = (): TaskState => reduceTaskEvents(store.stream(task.stream))!;
  return { store, aw, task, state };
}

const run = { threadId: 'th', runId: 'r1' };

const fullRun = agui(
  { type: EventType.RUN_STARTED, ...run },
  { type: EventType.STEP_STARTED, stepName: 'plan' },
  { type: EventType.SUBAGENT_STARTED, subagentRunId: 'lead', name: 'lead', description: 'plans' },
  { type: EventType.SUBAGENT_STARTED, subagentRunId: 'helper', name: 'helper', parentSubagentRunId: 'lead' },
  { type: EventType.TEXT_MESSAGE_START, messageId: 'm1', role: 'assistant', subagentRunId: 'lead' },
  { type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm1', delta: 'Hello ', subagentRunId: 'lead' },
  { type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm1', delta: 'there', subagentRunId: 'lead' },
  { type: EventType.TEXT_MESSAGE_END, messageId: 'm1', subagentRunId: 'lead' },
  { type: EventType.TOOL_CALL_START, toolCallId: 'c1', toolCallName: 'search', subagentRunId: 'helper' },
  { type: EventType.TOOL_CALL_ARGS, toolCallId: 'c1', delta: '{"q":', subagentRunId: 'helper' },
  { type: EventType.TOOL_CALL_ARGS, toolCallId: 'c1', delta: '"pgvector"}', subagentRunId: 'helper' },
  { type: EventType.TOOL_CALL_END, toolCallId: 'c1', subagentRunId: 'helper' },
  {
    type: EventType.TOOL_CALL_RESULT,
    messageId: 'c1-result',
    toolCallId: 'c1',
    content: '3 hits',
    subagentRunId: 'helper',
  },
  { type: EventType.TOOL_CALL_CHUNK, toolCallId: 'c2', toolCallName: 'fetch', delta: '{"url":"x"' },
  { type: EventType.TOOL_CALL_CHUNK, delta: '}' },
  { type: EventType.TEXT_MESSAGE_CHUNK, messageId: 'm2', role: 'assistant', delta: 'chunked ' },
  { type: EventType.TEXT_MESSAGE_CHUNK, delta: 'text' },
  { type: EventType.REASONING_START, messageId: 'r1' },
  { type: EventType.REASONING_MESSAGE_START, messageId: 'r1', role: 'reasoning' },
  { type: EventType.REASONING_MESSAGE_CONTENT, messageId: 'r1', delta: 'think ' },
  { type: EventType.REASONING_MESSAGE_CONTENT, messageId: 'r1', delta: 'hard' },
  { type: EventType.REASONING_MESSAGE_END, messageId: 'r1' },
  { type: EventType.REASONING_END, messageId: 'r1' },
  { type: EventType.STATE_SNAPSHOT, snapshot: { step: 1 } },
  { type: EventType.STATE_DELTA, delta: [{ op: 'replace', path: '/step', value: 2 }] },
  { type: EventType.ACTIVITY_SNAPSHOT, messageId: 'a1', activityType: 'plan', content: { steps: ['x'] } },
  { type: EventType.CUSTOM, name: 'chart', value: { points: [1, 2] } },
  { type: EventType.RAW, event: { provider: 'native' }, source: 'langgraph' },
  {
    type: EventType.MESSAGES_SNAPSHOT,
    messages: [
      { id: 'u1', role: 'user', content: 'question' },
      { id: 'm1', role: 'assistant', content: 'Hello there' },
      { id: 'm3', role: 'assistant', content: 'only in the snapshot' },
      {
        id: 'm4',
        role: 'assistant',
        toolCalls: [{ id: 'c3', type: 'function', function: { name: 'calc', arguments: '{"x":1}' } }],
      },
      { id: 'c3-result', role: 'tool', toolCallId: 'c3', content: '2' },
    ],
  },
  { type: EventType.SUBAGENT_FINISHED, subagentRunId: 'helper', result: { hits: 3 } },
  { type: EventType.SUBAGENT_ERROR, subagentRunId: 'lead', message: 'lost', code: 'lead_lost' },
  { type: 'SOMETHING_FROM_A_NEWER_PROTOCOL', x: 1 } as never,
  { type: EventType.STEP_FINISHED, stepName: 'plan' },
  { type: EventType.RUN_FINISHED, ...run, result: { answer: 42 } },
);

describe('fromAgUi: an AG-UI run becomes an agentwire task', () => {
  it('maps messages, tool calls, sub-agents, steps and the rest, and completes the task', async () => {
    const { task, state, store } = await newTask();
    const outcome = await fromAgUi(fullRun, { task, knownMessageIds: ['u1'] });
    assert.deepEqual(outcome, { type: 'success', result: { answer: 42 } });
    const s = state();
    assert.equal(s.status, 'completed');
    assert.deepEqual(s.result, { answer: 42 });
    assert.equal(s.stage, 'plan');
    // Sub-agents, the tree, and how each ended.
    assert.deepEqual(
      s.agentOrder.map((id) => [id, s.agents[id]!.name, s.agents[id]!.parentId, s.agents[id]!.status]),
      [
        ['lead', 'lead', undefined, 'failed'],
        ['helper', 'helper', 'lead', 'completed'],
      ],
    );
    assert.equal(s.agents.lead!.error?.code, 'lead_lost');
    // Text, from start/content/end, from chunks, and from the snapshot alone; the user's own is not repeated.
    assert.deepEqual(
      s.messageOrder.map((id) => [id, s.messages[id]!.text, s.messages[id]!.agentId, s.messages[id]!.done]),
      [
        ['m1', 'Hello there', 'lead', true],
        ['m2', 'chunked text', undefined, true],
        ['m3', 'only in the snapshot', undefined, true],
      ],
    );
    // Tool calls: streamed arguments arrive whole, chunks too, and the snapshot's call with its result.
    assert.deepEqual(
      s.toolOrder.map((id) => [
        id,
        s.tools[id]!.tool,
        s.tools[id]!.args,
        s.tools[id]!.status,
        s.tools[id]!.result,
      ]),
      [
        ['c1', 'search', { q: 'pgvector' }, 'completed', '3 hits'],
        ['c2', 'fetch', { url: 'x' }, 'cancelled', undefined],
        ['c3', 'calc', { x: 1 }, 'completed', '2'],
      ],
    );
    assert.equal(s.tools.c1!.agentId, 'helper');
    // Reasoning is a debug log line; state, activity, raw and custom events pass through as custom events.
    assert.ok(s.logs.some((l) => l.level === 'debug' && l.message === 'think hard'));
    const customs = store
      .stream(task.stream)
      .filter((e) => e.type === 'custom:event')
      .map((e) => (e.data as { name: string }).name);
    assert.deepEqual(customs, ['agui:state', 'agui:state_delta', 'agui:activity', 'chart', 'agui:raw']);
  });

  it('fails the task with the agent error and its code on RUN_ERROR', async () => {
    const { task, state } = await newTask();
    const outcome = await fromAgUi(
      agui(
        { type: EventType.RUN_STARTED, ...run },
        { type: EventType.RUN_ERROR, message: 'rate limited', code: 'rate_limit' },
      ),
      { task },
    );
    assert.deepEqual(outcome, { type: 'error', message: 'rate limited', code: 'rate_limit' });
    assert.equal(state().status, 'failed');
    assert.deepEqual(state().error, { message: 'rate limited', code: 'rate_limit' });
  });

  it('fails a run that stops short as unavailable, closing its open message first', async () => {
    const { task, state } = await newTask();
    const outcome = await fromAgUi(
      agui(
        { type: EventType.RUN_STARTED, ...run },
        { type: EventType.TEXT_MESSAGE_START, messageId: 'm', role: 'assistant' },
        { type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm', delta: 'half' },
      ),
      { task },
    );
    assert.deepEqual(outcome, { type: 'ended' });
    assert.equal(state().messages.m!.done, true);
    assert.equal(state().status, 'failed');
    assert.equal(state().error?.code, 'unavailable');
  });

  it('returns an interrupt without ending the task', async () => {
    const { task, state } = await newTask();
    const interrupt = { id: 'i1', reason: 'approval', message: 'Deploy?' };
    const outcome = await fromAgUi(
      agui(
        { type: EventType.RUN_STARTED, ...run },
        { type: EventType.RUN_FINISHED, ...run, outcome: { type: 'interrupt', interrupts: [interrupt] } },
      ),
      { task },
    );
    assert.deepEqual(outcome, { type: 'interrupt', interrupts: [interrupt] });
    assert.equal(state().status, 'running');
  });

  it('refuses an event that is not AG-UI with invalid_message, failing the task', async () => {
    const { task, state } = await newTask();
    await assert.rejects(
      fromAgUi(
        [
          { type: 'RUN_STARTED', ...run },
          { type: 'TEXT_MESSAGE_CONTENT', delta: 'no id' },
        ],
        { task },
      ),
      (err: unknown) => err instanceof AgentwireError && err.code === 'invalid_message',
    );
    assert.equal(state().status, 'failed');
    assert.equal(state().error?.code, 'invalid_message');
  });

  it('keeps ids longer than ours can be by hashing them, the same way every time', async () => {
    const { task, state } = await newTask();
    const long = 'x'.repeat(300);
    await fromAgUi(
      agui(
        { type: EventType.TEXT_MESSAGE_START, messageId: long, role: 'assistant' },
        { type: EventType.TEXT_MESSAGE_CONTENT, messageId: long, delta: 'ok' },
        { type: EventType.TEXT_MESSAGE_END, messageId: long },
        { type: EventType.RUN_FINISHED, ...run },
      ),
      { task },
    );
    const [id] = state().messageOrder;
    assert.match(id!, /^agui-[\w-]{43}$/);
    assert.equal(state().messages[id!]!.text, 'ok');
  });
});

/** An AG-UI agent server built with `@ag-ui/encoder`: `script` writes the run for each request. */
async function aguiServer(
  script: (
    send: (event: Record<string, unknown>) => void,
    req: IncomingMessage,
    res: ServerResponse,
    input: unknown,
  ) => Promise<void> | void,
): Promise<{ url: string; server: Server; inputs: unknown[] }> {
  const inputs: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const input = JSON.parse(body) as unknown;
      inputs.push(input);
      assert.ok(RunAgentInputSchema.safeParse(input).success, 'the bridge posts a valid RunAgentInput');
      const encoder = new EventEncoder({ accept: req.headers.accept });
      res.writeHead(200, { 'content-type': encoder.getContentType() });
      const send = (event: Record<string, unknown>) => res.write(encoder.encodeSSE(agui(event)[0]!));
      void Promise.resolve(script(send, req, res, input)).then(() => res.end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent`, server, inputs };
}

describe('runAgUiAgent: a task run by an AG-UI agent over HTTP', () => {
  it('posts the prompt as the thread, streams the run into the task and returns its result', async () => {
    const agent = await aguiServer((send, _req, _res, input) => {
      const { threadId, runId, messages } = input as {
        threadId: string;
        runId: string;
        messages: { content: string }[];
      };
      send({ type: EventType.RUN_STARTED, threadId, runId });
      send({ type: EventType.TEXT_MESSAGE_START, messageId: 'm', role: 'assistant' });
      send({
        type: EventType.TEXT_MESSAGE_CONTENT,
        messageId: 'm',
        delta: `You said: ${messages[0]!.content}`,
      });
      send({ type: EventType.TEXT_MESSAGE_END, messageId: 'm' });
      send({ type: EventType.RUN_FINISHED, threadId, runId, result: 'done' });
    });
    try {
      const { task, state } = await newTask();
      const result = await runAgUiAgent(task, 'hi there', {
        url: agent.url,
        headers: { authorization: 'Bearer x' },
      });
      assert.equal(result, 'done');
      assert.equal(state().messages.m!.text, 'You said: hi there');
      const input = agent.inputs[0] as { threadId: string };
      assert.equal(input.threadId, task.id, 'the thread is the task');
    } finally {
      agent.server.close();
    }
  });

  it("forwards the task's cancel as an abort of the request: the agent sees its client go", async () => {
    let closed!: () => void;
    const agentSawClose = new Promise<void>((resolve) => (closed = resolve));
    let streaming!: () => void;
    const started = new Promise<void>((resolve) => (streaming = resolve));
    const agent = await aguiServer(async (send, _req, res, input) => {
      const { threadId, runId } = input as { threadId: string; runId: string };
      send({ type: EventType.RUN_STARTED, threadId, runId });
      send({ type: EventType.TEXT_MESSAGE_START, messageId: 'm', role: 'assistant' });
      res.once('close', closed);
      streaming();
      await agentSawClose;
    });
    try {
      const { task, state } = await newTask();
      const running = runAgUiAgent(task, 'go on forever', { url: agent.url });
      await started;
      while (!state().messages.m) await new Promise((resolve) => setImmediate(resolve));
      await task.cancel({ reason: 'stop' });
      await assert.rejects(running, (err: unknown) => (err as Error).name === 'AbortError');
      await agentSawClose;
      assert.equal(state().status, 'cancelled');
      assert.equal(state().messages.m?.done, true, 'the open message was closed');
    } finally {
      agent.server.close();
    }
  });

  it('refuses an agent that answers with an HTTP error, as unavailable', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('boom');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { task } = await newTask();
      await assert.rejects(
        runAgUiAgent(task, 'x', { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }),
        (err: unknown) =>
          err instanceof AgentwireError && err.code === 'unavailable' && /500: boom/.test(err.message),
      );
    } finally {
      server.close();
    }
  });
});
