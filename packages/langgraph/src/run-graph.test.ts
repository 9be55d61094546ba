/**
 * LangGraph graphs driven by LangChain's fake chat models (no network), published through the
 * agent SDK over HTTP to a real gateway, and checked as a watcher on the client SDK sees them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { taskStream, type AnyEnvelope } from '@agentwire/protocol';
import { connect, type Producer } from '@agentwire/agent';
import { createClient, type Client } from '@agentwire/client';
import { createGateway, type Gateway } from '@agentwire/server';
import { AIMessageChunk, HumanMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { FakeListChatModel, FakeStreamingChatModel } from '@langchain/core/utils/testing';
import {
  Annotation,
  END,
  interrupt,
  MemorySaver,
  MessagesAnnotation,
  START,
  StateGraph,
} from '@langchain/langgraph';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { z } from 'zod';
import { nodeNames, runGraph } from './index.js';
import { Watcher } from './testing/watcher.js';
import { pace, waitUntil } from './testing/wait.js';

let gw: Gateway;
let aw: Producer;
let client: Client;
const watchers: Watcher[] = [];

before(async () => {
  gw = await createGateway({ port: 0, logLevel: 'silent', engine: { kind: 'memory' } });
  aw = connect({ url: gw.url });
  client = createClient({ url: gw.url });
});
after(async () => {
  for (const w of watchers) w.close();
  await client.close();
  await aw.close();
  await gw.close();
});

/** A task with a watcher subscribed from its very first event. */
async function watchedTask(title: string, stages?: string[]) {
  const taskId = randomUUID();
  const watcher = await Watcher.open(client, taskStream(taskId));
  watchers.push(watcher);
  const task = await aw.startTask({ taskId, title, ...(stages && { stages }) });
  return { task, watcher };
}

const add = tool(async ({ a, b }: { a: number; b: number }) => a + b, {
  name: 'add',
  description: 'Adds two numbers.',
  schema: z.object({ a: z.number(), b: z.number() }),
});
const divide = tool(
  async ({ a, b }: { a: number; b: number }) => {
    if (b === 0) throw new Error('division by zero');
    return a / b;
  },
  { name: 'divide', description: 'Divides a by b.', schema: z.object({ a: z.number(), b: z.number() }) },
);

/** planner (a model asking for two tool calls) → tools (ToolNode) → writer (a streaming model). */
function toolGraph() {
  const planner = new FakeStreamingChatModel({
    chunks: [
      new AIMessageChunk({
        content: 'Let me work that out. ',
        tool_calls: [
          { id: 'call_add', name: 'add', args: { a: 2, b: 3 } },
          { id: 'call_div', name: 'divide', args: { a: 1, b: 0 } },
        ],
      }),
    ],
  }).bindTools([add, divide]);
  const writer = new FakeListChatModel({ responses: ['Two plus three is five.'] });
  return new StateGraph(MessagesAnnotation)
    .addNode('planner', async (state) => ({ messages: [await planner.invoke(state.messages)] }))
    .addNode('tools', new ToolNode([add, divide]))
    .addNode('writer', async (state) => ({ messages: [await writer.invoke(state.messages)] }))
    .addEdge(START, 'planner')
    .addEdge('planner', 'tools')
    .addEdge('tools', 'writer')
    .addEdge('writer', END)
    .compile();
}

function agentId(w: Watcher, name: string): string {
  const spawned = w.of('agent:spawned').find((e) => e.data.name === name);
  assert.ok(spawned, `agent ${name} was spawned; saw ${w.types().join(', ')}`);
  return spawned.data.agentId;
}

function seqOf(w: Watcher, predicate: (e: AnyEnvelope) => boolean): number {
  const found = w.events.find(predicate);
  assert.ok(found, 'the event was seen');
  return found.seq;
}

describe('runGraph', () => {
  it('a multi-node run: nodes as agents, tool calls with the model’s call ids, streamed tokens, the final state', async () => {
    const { task, watcher } = await watchedTask('Arithmetic');
    const state = await runGraph(task, toolGraph(), { messages: [new HumanMessage('What is 2 + 3?')] });
    assert.equal(state.messages.at(-1)?.content, 'Two plus three is five.');
    await watcher.until((w) => w.state?.status === 'completed', 'task:complete');

    const planner = agentId(watcher, 'planner');
    const tools = agentId(watcher, 'tools');
    const writer = agentId(watcher, 'writer');
    const s = watcher.state!;
    assert.deepEqual(
      s.agentOrder.map((id) => [s.agents[id]!.name, s.agents[id]!.status]),
      [
        ['planner', 'completed'],
        ['tools', 'completed'],
        ['writer', 'completed'],
      ],
    );
    assert.notEqual(tools, planner);

    // One call id per call, the model's own; attributed to the agent whose model asked for it.
    assert.deepEqual(
      s.toolOrder.map((id) => {
        const t = s.tools[id]!;
        return [t.callId, t.tool, t.agentId, t.args, t.status, t.result ?? t.error?.message];
      }),
      [
        ['call_add', 'add', planner, { a: 2, b: 3 }, 'completed', '5'],
        ['call_div', 'divide', planner, { a: 1, b: 0 }, 'failed', 'division by zero'],
      ],
    );
    for (const callId of ['call_add', 'call_div']) {
      const opened = seqOf(watcher, (e) => e.type === 'tool:executing' && e.data.callId === callId);
      const closed = seqOf(
        watcher,
        (e) => (e.type === 'tool:complete' || e.type === 'tool:failed') && e.data.callId === callId,
      );
      assert.ok(opened < closed, `${callId} opened before it closed`);
    }

    // The writer's reply arrives token by token; every message is ended.
    const reply = s.messageOrder.map((id) => s.messages[id]!).find((m) => m.agentId === writer);
    assert.equal(reply?.text, 'Two plus three is five.');
    assert.equal(reply?.role, 'assistant');
    const deltas = watcher.of('message:delta').filter((e) => e.data.messageId === reply.messageId);
    assert.equal(deltas.length, 'Two plus three is five.'.length, 'one delta per streamed chunk');
    assert.ok(Object.values(s.messages).every((m) => m.done));
    assert.deepEqual(
      s.messageOrder.map((id) => [s.messages[id]!.role, s.messages[id]!.text]),
      [
        ['assistant', 'Let me work that out. '],
        ['tool', '5'],
        ['tool', 'Error: division by zero\n Please fix your mistakes.'],
        ['assistant', 'Two plus three is five.'],
      ],
    );
    assert.ok(
      seqOf(watcher, (e) => e.type === 'agent:spawned' && e.data.name === 'writer') <
        seqOf(watcher, (e) => e.type === 'message:start' && e.data.agentId === writer),
      'the agent exists before it speaks',
    );

    // The task completes with the final state, its messages as plain objects.
    const result = s.result as { messages: { type: string; content: unknown }[] };
    assert.deepEqual(
      result.messages.map((m) => m.type),
      ['human', 'ai', 'tool', 'tool', 'ai'],
    );
    assert.equal(watcher.types().at(-1), 'task:complete');
  });

  it('nodes as stages: the root graph’s nodes are the task’s stages, in the order they ran', async () => {
    const graph = toolGraph();
    const { task, watcher } = await watchedTask('Staged', nodeNames(graph));
    await runGraph(task, graph, { messages: [new HumanMessage('What is 2 + 3?')] }, { nodes: 'stages' });
    await watcher.until((w) => w.state?.status === 'completed', 'task:complete');
    assert.deepEqual(watcher.state!.stages, ['planner', 'tools', 'writer']);
    assert.deepEqual(
      watcher.of('task:stage').map((e) => e.data.stage),
      ['planner', 'tools', 'writer'],
    );
    assert.equal(watcher.of('agent:spawned').length, 0);
    assert.ok(watcher.of('tool:executing').every((e) => e.data.agentId === undefined));
    assert.equal(watcher.state!.messageOrder.length, 4);
  });

  it('a subgraph’s nodes are agents under the node that runs the subgraph', async () => {
    const Inner = Annotation.Root({
      notes: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    });
    const inner = new StateGraph(Inner)
      .addNode('search', async () => ({ notes: ['found'] }))
      .addNode('summarise', async () => ({ notes: ['summed up'] }))
      .addEdge(START, 'search')
      .addEdge('search', 'summarise')
      .addEdge('summarise', END)
      .compile();
    const graph = new StateGraph(Inner)
      .addNode('researcher', inner)
      .addEdge(START, 'researcher')
      .addEdge('researcher', END)
      .compile();
    const { task, watcher } = await watchedTask('Nested');
    const state = await runGraph(task, graph, { notes: [] });
    assert.deepEqual(state.notes, ['found', 'summed up']);
    await watcher.until((w) => w.state?.status === 'completed', 'task:complete');
    const researcher = agentId(watcher, 'researcher');
    const s = watcher.state!;
    assert.deepEqual(
      s.agentOrder.map((id) => [s.agents[id]!.name, s.agents[id]!.parentId]),
      [
        ['researcher', undefined],
        ['search', researcher],
        ['summarise', researcher],
      ],
    );
  });

  it('an interrupt inside a subgraph is asked by the inner node’s agent and resumes the subgraph', async () => {
    const Choice = Annotation.Root({ choice: Annotation<string>() });
    const inner = new StateGraph(Choice)
      .addNode('pick', async () => ({ choice: interrupt<string, string>('Which index?') }))
      .addEdge(START, 'pick')
      .addEdge('pick', END)
      .compile();
    const graph = new StateGraph(Choice)
      .addNode('setup', inner)
      .addEdge(START, 'setup')
      .addEdge('setup', END)
      .compile({ checkpointer: new MemorySaver() });
    const { task, watcher } = await watchedTask('Nested question');
    const running = runGraph(task, graph, { choice: '' });
    await watcher.until((w) => w.of('question:asked').length === 1, 'question:asked');
    const asked = watcher.of('question:asked')[0]!.data;
    assert.equal(asked.agentId, agentId(watcher, 'pick'));
    await watcher.sub.answer(asked.questionId, 'hnsw');
    assert.deepEqual(await running, { choice: 'hnsw' });
  });

  it('a final state larger than the gateway takes still completes the task, without the result', async () => {
    const Big = Annotation.Root({ text: Annotation<string>() });
    const graph = new StateGraph(Big)
      .addNode('write', async () => ({ text: 'x'.repeat(2 * 1024 * 1024) }))
      .addEdge(START, 'write')
      .addEdge('write', END)
      .compile();
    const { task, watcher } = await watchedTask('Big');
    const state = await runGraph(task, graph, { text: '' });
    assert.equal(state.text.length, 2 * 1024 * 1024);
    await watcher.until((w) => w.state?.status === 'completed', 'task:complete');
    assert.equal(watcher.state!.result, undefined);
    assert.match(watcher.state!.summary ?? '', /not published \(payload_too_large\)/);
  });

  it('a node that throws fails its agent and the task, and runGraph rejects with its error', async () => {
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('fetch', async () => {
        throw new Error('upstream 502');
      })
      .addEdge(START, 'fetch')
      .addEdge('fetch', END)
      .compile();
    const { task, watcher } = await watchedTask('Broken');
    await assert.rejects(runGraph(task, graph, { messages: [] }), { message: 'upstream 502' });
    await watcher.until((w) => w.state?.status === 'failed', 'task:failed');
    const fetch = agentId(watcher, 'fetch');
    assert.equal(watcher.state!.agents[fetch]!.status, 'failed');
    assert.equal(watcher.of('agent:failed')[0]?.data.agentId, fetch);
    assert.equal(watcher.state!.error?.message, 'upstream 502');
    assert.equal(watcher.types().at(-1), 'task:failed');
  });

  it('interrupt() is a question; a watcher’s answer resumes the graph through Command({ resume })', async () => {
    const Draft = Annotation.Root({
      draft: Annotation<string>(),
      published: Annotation<boolean>(),
    });
    const graph = new StateGraph(Draft)
      .addNode('write', async () => ({ draft: 'Qdrant wins on recall.' }))
      .addNode('review', async (state) => {
        const verdict = interrupt({ question: `Publish "${state.draft}"?`, options: ['yes', 'no'] });
        return { published: verdict === 'yes' };
      })
      .addEdge(START, 'write')
      .addEdge('write', 'review')
      .addEdge('review', END)
      .compile({ checkpointer: new MemorySaver() });
    const { task, watcher } = await watchedTask('Review');
    const running = runGraph(task, graph, { draft: '' });

    await watcher.until((w) => w.of('question:asked').length === 1, 'question:asked');
    const asked = watcher.of('question:asked')[0]!.data;
    const review = agentId(watcher, 'review');
    assert.equal(asked.prompt, 'Publish "Qdrant wins on recall."?');
    assert.deepEqual(asked.options, [{ value: 'yes' }, { value: 'no' }]);
    assert.equal(asked.agentId, review);
    await watcher.until((w) => w.state?.agents[review]?.detail === 'waiting', 'the node waits');
    await assert.rejects(watcher.sub.answer(asked.questionId, 'maybe'), { code: 'invalid_answer' });
    await watcher.sub.answer(asked.questionId, 'yes');

    const state = await running;
    assert.deepEqual(state, { draft: 'Qdrant wins on recall.', published: true });
    await watcher.until((w) => w.state?.status === 'completed', 'task:complete');
    const question = watcher.state!.questions[asked.questionId]!;
    assert.equal(question.status, 'answered');
    assert.equal(question.answer, 'yes');
    assert.match(question.by ?? '', /^connection:/);
    assert.deepEqual(watcher.state!.result, { draft: 'Qdrant wins on recall.', published: true });
    // The node ran again on resume: the same agent, not a second one.
    assert.equal(watcher.of('agent:spawned').filter((e) => e.data.name === 'review').length, 1);
  });

  it('an interrupt’s responseSchema is the question’s schema: the gateway refuses answers that do not match', async () => {
    const Order = Annotation.Root({ copies: Annotation<number>() });
    const graph = new StateGraph(Order)
      .addNode('ask', async () => {
        const { copies } = interrupt<string, { copies: number }>('How many copies?', {
          responseSchema: z.object({ copies: z.number().int().min(1) }),
        });
        return { copies };
      })
      .addEdge(START, 'ask')
      .addEdge('ask', END)
      .compile({ checkpointer: new MemorySaver() });
    const { task, watcher } = await watchedTask('Order');
    const running = runGraph(task, graph, { copies: 0 });
    await watcher.until((w) => w.of('question:asked').length === 1, 'question:asked');
    const asked = watcher.of('question:asked')[0]!.data;
    assert.equal(asked.prompt, 'How many copies?');
    assert.equal((asked.schema as { type?: string }).type, 'object');
    await assert.rejects(watcher.sub.answer(asked.questionId, { copies: 0 }), { code: 'invalid_answer' });
    await assert.rejects(watcher.sub.answer(asked.questionId, 'three'), { code: 'invalid_answer' });
    await watcher.sub.answer(asked.questionId, { copies: 3 });
    assert.deepEqual(await running, { copies: 3 });
  });

  it('parallel nodes that interrupt ask one question each; the answers resume each by interrupt id', async () => {
    const Picks = Annotation.Root({
      picks: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    });
    const graph = new StateGraph(Picks)
      .addNode('colour', async () => ({ picks: [`colour=${interrupt('Which colour?')}`] }))
      .addNode('size', async () => ({ picks: [`size=${interrupt('Which size?')}`] }))
      .addEdge(START, 'colour')
      .addEdge(START, 'size')
      .addEdge('colour', END)
      .addEdge('size', END)
      .compile({ checkpointer: new MemorySaver() });
    const { task, watcher } = await watchedTask('Two questions');
    const running = runGraph(task, graph, { picks: [] });
    await watcher.until((w) => w.of('question:asked').length === 2, 'two questions');
    const byPrompt = new Map(watcher.of('question:asked').map((e) => [e.data.prompt, e.data]));
    assert.equal(byPrompt.get('Which colour?')?.agentId, agentId(watcher, 'colour'));
    assert.equal(byPrompt.get('Which size?')?.agentId, agentId(watcher, 'size'));
    await watcher.sub.answer(byPrompt.get('Which size?')!.questionId, 'L');
    await watcher.sub.answer(byPrompt.get('Which colour?')!.questionId, 'teal');
    const state = await running;
    assert.deepEqual([...state.picks].sort(), ['colour=teal', 'size=L']);
  });

  it('a question nobody answers in time fails the task as timed out, unless the mapping gives a default', async () => {
    const Answer = Annotation.Root({ answer: Annotation<string>() });
    const graph = () =>
      new StateGraph(Answer)
        .addNode('ask', async () => ({ answer: interrupt<string, string>('Anyone there?') }))
        .addEdge(START, 'ask')
        .addEdge('ask', END)
        .compile({ checkpointer: new MemorySaver() });

    const silent = await watchedTask('Nobody answers');
    await assert.rejects(
      runGraph(
        silent.task,
        graph(),
        { answer: '' },
        { question: (i) => ({ prompt: String(i.value), timeout: 50 }) },
      ),
      { code: 'timeout' },
    );
    await silent.watcher.until((w) => w.state?.status === 'failed', 'task:failed');
    assert.equal(silent.watcher.state!.failureReason, 'timeout');

    const defaulted = await watchedTask('A default answers');
    const state = await runGraph(
      defaulted.task,
      graph(),
      { answer: '' },
      { question: (i) => ({ prompt: String(i.value), timeout: 50, default: 'nobody' }) },
    );
    assert.deepEqual(state, { answer: 'nobody' });
  });

  it('a watcher’s cancel stops the graph mid-stream; nothing is published after task:cancelled', async () => {
    const { task, watcher } = await watchedTask('Cancel me');
    const talker = new FakeListChatModel({ responses: ['word '.repeat(400)], sleep: 2 });
    let afterCancel = 0;
    let nodeSignal: AbortSignal | undefined;
    let stubbornDone!: () => void;
    const stubbornFinished = new Promise<void>((resolve) => (stubbornDone = resolve));
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('talker', async (state) => ({ messages: [await talker.invoke(state.messages)] }))
      // Ignores the cancel: keeps writing custom events and calling a tool, as JS cannot stop it.
      .addNode('stubborn', async (_state, config) => {
        nodeSignal = config.signal;
        for (let i = 0; afterCancel < 20 && i < 5_000; i++) {
          await pace(2);
          config.writer?.({ tick: i });
          if (task.signal.aborted) {
            afterCancel++;
            await add.invoke({ a: i, b: 1 }).catch(() => undefined);
          }
        }
        stubbornDone();
        return {};
      })
      .addEdge(START, 'talker')
      .addEdge(START, 'stubborn')
      .addEdge('talker', END)
      .addEdge('stubborn', END)
      .compile({ checkpointer: new MemorySaver() });
    // The run rejects as soon as the signal fires, before the watcher's cancel is acknowledged.
    const outcome = runGraph(task, graph, { messages: [new HumanMessage('Talk.')] }).catch(
      (err: unknown) => err,
    );
    await watcher.until((w) => w.of('message:delta').length >= 5, 'tokens streaming');
    await watcher.sub.cancel({ reason: 'changed my mind' });

    const err = await outcome;
    assert.ok(err instanceof Error && err.name === 'AbortError', String(err));
    assert.match(err.message, /changed my mind/);
    // Nodes get the task's cancel, with its reason, as their `config.signal`.
    assert.equal(nodeSignal?.aborted, true);
    assert.match(String((nodeSignal?.reason as Error | undefined)?.message), /changed my mind/);
    await stubbornFinished;
    await aw.flush();

    const log = (await gw.engine.read(task.stream, 0, 100_000)).events;
    const cancelledAt = log.findIndex((e) => e.type === 'task:cancelled');
    assert.ok(cancelledAt > 0, 'the cancel is recorded');
    assert.deepEqual(
      log.slice(cancelledAt + 1).map((e) => e.type),
      [],
      'nothing after task:cancelled',
    );
    await watcher.until((w) => w.state?.status === 'cancelled', 'task:cancelled');
    assert.equal(watcher.events.at(-1)?.type, 'task:cancelled');
    assert.equal(watcher.state!.cancelReason, 'changed my mind');
    // The node that was mid-stream: its message was ended before the cancel was recorded.
    const s = watcher.state!;
    const streamed = s.messageOrder.map((id) => s.messages[id]!);
    assert.equal(streamed.length, 1);
    assert.ok(streamed[0]!.text.length > 0 && streamed[0]!.text.length < 'word '.length * 400, 'cut short');
    assert.equal(streamed[0]!.done, true);
    assert.ok(watcher.of('custom:event').length > 0, 'the stubborn node was publishing before the cancel');
  });

  it('aborting the config’s signal stops the graph and cancels the task, with nothing after task:cancelled', async () => {
    const talker = new FakeListChatModel({ responses: ['token '.repeat(400)], sleep: 2 });
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('talker', async (state) => ({ messages: [await talker.invoke(state.messages)] }))
      .addEdge(START, 'talker')
      .addEdge('talker', END)
      .compile();
    const { task, watcher } = await watchedTask('Stop from code');
    const stop = new AbortController();
    const running = runGraph(
      task,
      graph,
      { messages: [new HumanMessage('Talk.')] },
      { config: { signal: stop.signal } },
    );
    await watcher.until((w) => w.of('message:delta').length >= 5, 'tokens streaming');
    stop.abort(new Error('client went away'));
    await assert.rejects(running, { message: 'client went away' });
    await watcher.until((w) => w.state?.status === 'cancelled', 'task:cancelled');
    await aw.flush();
    const log = (await gw.engine.read(task.stream, 0, 100_000)).events;
    assert.equal(log.at(-1)?.type, 'task:cancelled');
    assert.equal((log.at(-1)?.data as { reason?: string }).reason, 'client went away');
    assert.equal(log.at(-2)?.type, 'message:end', 'the open message ends before the cancel');
    assert.equal(task.ended, true);
  });

  it('as a worker: a task a watcher starts runs the graph on its JSON input', async () => {
    aw.handle('arithmetic', (task, input: { messages: { role: string; content: string }[] }) =>
      runGraph(task, toolGraph(), input),
    );
    await waitUntil(
      () => gw.producers.workers().some((w) => w.kinds.includes('arithmetic')),
      'the worker to register',
    );
    const taskId = randomUUID();
    const watcher = await Watcher.open(client, taskStream(taskId));
    watchers.push(watcher);
    await client.command({
      type: 'start',
      kind: 'arithmetic',
      taskId,
      title: 'Sum',
      input: { messages: [{ role: 'user', content: 'What is 2 + 3?' }] },
    });
    await watcher.until((w) => w.state?.status === 'completed', 'task:complete');
    const result = watcher.state!.result as { messages: { type: string; content: string; id?: string }[] };
    assert.deepEqual(result.messages[0], {
      type: 'human',
      content: 'What is 2 + 3?',
      id: result.messages[0]!.id,
    });
    assert.equal(result.messages.at(-1)?.content, 'Two plus three is five.');
    assert.equal(watcher.of('task:complete').length, 1, 'completed once, by the run');
  });
});
