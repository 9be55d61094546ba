import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpAgent, type Message } from '@ag-ui/client';
import { EventSchema } from '@ag-ui/core/schemas';
import { reduceTaskEvents, type AgUiEvent, type AnyEnvelope, type TaskState } from '@agentwire/protocol';
import { MessageBook } from './messages.js';
import { agUiState } from './state.js';
import { AgUiTranslator, type TranslatorOptions } from './translator.js';

/**
 * The translator against `@ag-ui/client` itself: each run it produces is replayed through an
 * unchanged HttpAgent (its fetch hook serves the events as SSE), so the client's verifier and
 * event application judge it, and `@ag-ui/core`'s schema checks every event.
 */

const EPOCH = 'e1';
let time = 1_000;
const env = (seq: number, type: string, data: unknown): AnyEnvelope =>
  ({ stream: 'task:t1', seq, epoch: EPOCH, id: `id-${seq}`, type, time: (time += 10), data }) as AnyEnvelope;

/** A history with the awkward cases: retries, failures, chat, a tool-role message, a late delta. */
const edgeHistory: AnyEnvelope[] = [
  [
    'task:start',
    {
      taskId: 't1',
      title: 'edge',
      input: { prompt: 'hi', messages: [{ id: 'u1', role: 'user', content: 'hi' }] },
    },
  ],
  ['task:stage', { stage: 'plan' }],
  ['agent:spawned', { agentId: 'a1', name: 'lead', role: 'leads' }],
  ['agent:spawned', { agentId: 'a2', name: 'helper', parentId: 'a1' }],
  ['chat:message', { messageId: 'c1', text: 'please hurry', from: 'alice' }],
  ['message:start', { messageId: 'm1', role: 'assistant', agentId: 'a1' }],
  ['message:delta', { messageId: 'm1', delta: 'Hel' }],
  ['tool:executing', { callId: 'k1', tool: 'fetch', agentId: 'a2', args: { url: 'x' }, attempt: 1 }],
  ['tool:failed', { callId: 'k1', agentId: 'a2', error: { message: '503' }, retryable: true, durationMs: 3 }],
  ['tool:executing', { callId: 'k1', tool: 'fetch', agentId: 'a2', args: { url: 'x' }, attempt: 2 }],
  ['message:delta', { messageId: 'm1', delta: 'lo' }],
  ['tool:complete', { callId: 'k1', agentId: 'a2', durationMs: 4, result: { status: 200 } }],
  ['tool:executing', { callId: 'k2', tool: 'parse', agentId: 'a2' }],
  ['tool:failed', { callId: 'k2', agentId: 'a2', error: { message: 'bad html', code: 'parse_error' } }],
  ['message:end', { messageId: 'm1' }],
  ['message:delta', { messageId: 'm1', delta: ' ignored' }],
  ['message:start', { messageId: 'm2', role: 'tool', agentId: 'a2' }],
  ['message:delta', { messageId: 'm2', delta: 'raw output' }],
  ['agent:handoff', { from: 'a2', to: 'a1', reason: 'done' }],
  ['memory:recalled', { agentId: 'a1', memories: [{ content: 'a fact' }] }],
  ['custom:event', { name: 'chart', payload: { points: [1, 2] } }],
  ['log:entry', { level: 'info', message: 'note' }],
  ['task:cancelled', { agentId: 'a2', by: 'bob' }],
  ['agent:progress', { agentId: 'a1', status: 'writing', percent: 70 }],
  ['task:stage', { stage: 'write' }],
  ['message:end', { messageId: 'm2' }],
  ['task:complete', { result: { ok: true } }],
].map(([type, data], i) => env(i + 1, type as string, data));

const options = (extra: Partial<TranslatorOptions> = {}): TranslatorOptions => ({
  threadId: 't1',
  runId: 'r1',
  stream: 'task:t1',
  interrupts: true,
  openAtStart: new Set(),
  headAtStart: 0,
  ...extra,
});

/** Translates `events` from position `at` (with `state` there; a prelude if `messages` given). */
function translate(
  events: AnyEnvelope[],
  at = 0,
  state?: TaskState,
  messages?: Message[],
  extra: Partial<TranslatorOptions> = {},
): AgUiEvent[] {
  const t = new AgUiTranslator(options(extra));
  const out = [
    ...t.open({ seq: at, epoch: EPOCH }, state, messages && { messages: messages as never }).events,
  ];
  for (const e of events) out.push(...t.push(e).events);
  return out;
}

/** Replays events through an unchanged HttpAgent; fails the test if its verifier refuses them. */
async function replay(events: AgUiEvent[], agent = newClient()): Promise<HttpAgent> {
  const body = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');
  agent.fetch = async () => new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  let failure: Error | undefined;
  for (const e of events) {
    const parsed = EventSchema.safeParse(e);
    assert.ok(parsed.success, `${e.type}: ${JSON.stringify(parsed.error?.issues)}`);
  }
  await agent.runAgent({}, { onRunFailed: ({ error }) => void (failure = error) });
  assert.equal(failure, undefined, `the client refused the run: ${failure?.message}`);
  return agent;
}

function newClient(): HttpAgent {
  const agent = new HttpAgent({ url: 'http://replay.invalid/', threadId: 't1' });
  agent.addMessage({ id: 'u1', role: 'user', content: 'hi' });
  return agent;
}

const strip = (messages: unknown): unknown =>
  JSON.parse(JSON.stringify(messages, (key, value: unknown) => (key === 'metadata' ? undefined : value)));
const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** What a client must end with: the reducer's state, and the messages the book folds. */
function expected(history: AnyEnvelope[]) {
  const book = new MessageBook();
  let state: TaskState | undefined;
  for (const e of history) {
    state = reduceTaskEvents([e], state);
    book.apply(e, state!);
  }
  return { state: json(agUiState(state!)), messages: strip(book.messages) };
}

function stateAndBookAt(history: AnyEnvelope[], seq: number) {
  const book = new MessageBook();
  let state: TaskState | undefined;
  for (const e of history.slice(0, seq)) {
    state = reduceTaskEvents([e], state);
    book.apply(e, state!);
  }
  return { state, messages: json(book.messages) as Message[] };
}

describe('AG-UI translator, judged by @ag-ui/client', () => {
  it('maps every kind of event into a run the client accepts, and says what the history says', async () => {
    const events = translate(edgeHistory);
    const client = await replay(events);
    const want = expected(edgeHistory);
    assert.deepEqual(client.state, want.state);
    assert.deepEqual(strip(client.messages), want.messages, 'the book folds what the client applies');

    const byType = (type: string) => events.filter((e) => e.type === type);
    // The retried call is one call with its arguments once, and the final attempt's result.
    assert.equal(byType('TOOL_CALL_START').length, 2);
    const fetchCall = client.messages.find((m) => m.id === 'k1');
    assert.equal(
      fetchCall?.role === 'assistant' && fetchCall.toolCalls?.[0]?.function.arguments,
      '{"url":"x"}',
    );
    assert.deepEqual(
      client.messages.filter((m) => m.role === 'tool').map((m) => m.content),
      ['{"status":200}', '{"error":{"message":"bad html","code":"parse_error"}}'],
    );
    // Chat from a watcher is a user message; a tool-role message is the assistant's; late text is dropped.
    assert.deepEqual(
      client.messages.filter((m) => m.role === 'user').map((m) => [m.content, m.name]),
      [
        ['hi', undefined],
        ['please hurry', 'alice'],
      ],
    );
    assert.equal(client.messages.find((m) => m.id === 'm1')?.content, 'Hello');
    assert.equal(client.messages.find((m) => m.id === 'm2')?.role, 'assistant');
    // Sub-agents with their parent, one cancelled; the events without an AG-UI counterpart are CUSTOM.
    assert.deepEqual(
      byType('SUBAGENT_STARTED').map((e) => [
        e.subagentRunId,
        e.type === 'SUBAGENT_STARTED' && e.parentSubagentRunId,
      ]),
      [
        ['a1', undefined],
        ['a2', 'a1'],
      ],
    );
    const cancelled = byType('SUBAGENT_ERROR')[0];
    assert.equal(cancelled?.type === 'SUBAGENT_ERROR' && cancelled.code, 'cancelled');
    assert.deepEqual(
      byType('CUSTOM').map((e) => e.type === 'CUSTOM' && e.name),
      ['agent:handoff', 'memory:recalled', 'chart'],
    );
    assert.deepEqual(
      byType('STEP_STARTED')
        .filter((e) => e.subagentRunId === undefined)
        .map((e) => e.type === 'STEP_STARTED' && e.stepName),
      ['plan', 'write'],
    );
    const last = events.at(-1)!;
    assert.equal(last.type, 'RUN_FINISHED');
    assert.deepEqual(last.type === 'RUN_FINISHED' && last.result, { ok: true });
    // Every event carries the seq it came from.
    assert.ok(events.every((e) => typeof (e.metadata?.agentwire as { seq?: unknown })?.seq === 'number'));
  });

  it('gives a late joiner at any position the same end as a client that watched it all', async () => {
    const want = expected(edgeHistory);
    // From 1: a task that exists has its start; the client that started it holds its input.
    for (let at = 1; at <= edgeHistory.length; at++) {
      const { state, messages } = stateAndBookAt(edgeHistory, at);
      const client = new HttpAgent({ url: 'http://replay.invalid/', threadId: 't1' });
      await replay(translate(edgeHistory.slice(at), at, state, messages), client);
      assert.deepEqual(client.state, want.state, `joined at ${at}`);
      assert.deepEqual(strip(client.messages), want.messages, `joined at ${at}`);
    }
  });

  it('resumes a client cut off at any position with exactly what it missed', async () => {
    const want = expected(edgeHistory);
    const whole = translate(edgeHistory);
    for (let at = 0; at < edgeHistory.length; at++) {
      const client = newClient();
      // The first run, cut after the events of seq `at` (what a dropped connection leaves).
      const seen = whole.filter((e) => (e.metadata?.agentwire as { seq: number }).seq <= at);
      await replay(seen, client);
      const { state } = stateAndBookAt(edgeHistory, at);
      await replay(translate(edgeHistory.slice(at), at, state), client);
      assert.deepEqual(client.state, want.state, `resumed at ${at}`);
      assert.deepEqual(strip(client.messages), want.messages, `resumed at ${at}`);
    }
  });

  it('ends a failed task with RUN_ERROR and its code, an orphaned one with orphaned', async () => {
    const base = edgeHistory.slice(0, 7);
    const codeOf = (events: AgUiEvent[]) => {
      const last = events.at(-1)!;
      return last.type === 'RUN_ERROR' ? [last.code, last.message] : [last.type];
    };
    const failed = translate([
      ...base,
      env(8, 'task:failed', { error: { message: 'boom', code: 'model_down' } }),
    ]);
    await replay(failed);
    assert.deepEqual(codeOf(failed), ['model_down', 'boom']);
    const orphaned = translate([
      ...base,
      env(8, 'task:failed', { error: { message: 'gone' }, reason: 'orphaned' }),
    ]);
    assert.deepEqual(codeOf(orphaned), ['orphaned', 'gone']);
    const cancelled = translate([...base, env(8, 'task:cancelled', { by: 'bob', reason: 'enough' })]);
    await replay(cancelled);
    assert.deepEqual(codeOf(cancelled), ['cancelled', 'The task was cancelled by bob: enough.']);
    assert.ok(!cancelled.some((e) => e.type === 'RUN_FINISHED'));
    // Nothing follows the end of a run, whatever else is pushed.
    const t = new AgUiTranslator(options());
    t.open({ seq: 0, epoch: EPOCH }, undefined, undefined);
    for (const e of [...base, env(8, 'task:complete', {})]) t.push(e);
    assert.ok(t.ended);
    assert.deepEqual(t.push(env(9, 'log:entry', { level: 'info', message: 'late' })).events, []);
  });

  it('pauses on a question with an interrupt that names the question and the position', async () => {
    const asked = env(8, 'question:asked', {
      questionId: 'q1',
      prompt: 'Go?',
      agentId: 'a1',
      options: [{ value: 'yes' }, { value: 'no' }],
      timeoutMs: 60_000,
    });
    const events = translate([...edgeHistory.slice(0, 7), asked]);
    const client = await replay(events);
    const finished = events.at(-1)!;
    assert.equal(finished.type === 'RUN_FINISHED' && finished.outcome?.type, 'interrupt');
    assert.equal(client.pendingInterrupts.length, 1);
    const interrupt = client.pendingInterrupts[0]!;
    assert.equal(interrupt.id, `q1@8@${EPOCH}`);
    assert.equal(interrupt.subagentRunId, 'a1');
    assert.deepEqual(interrupt.responseSchema, { type: 'string', enum: ['yes', 'no'] });
    assert.equal(interrupt.expiresAt, new Date(asked.time + 60_000).toISOString());
    // The open message and the sub-agents were closed first, the asking one suspended.
    const suspended = events.filter((e) => e.type === 'SUBAGENT_FINISHED');
    assert.deepEqual(
      suspended.map((e) => e.type === 'SUBAGENT_FINISHED' && [e.subagentRunId, e.outcome]),
      [
        ['a2', { type: 'suspended', interruptIds: [] }],
        ['a1', { type: 'suspended', interruptIds: [interrupt.id] }],
      ],
    );

    // A question replayed from history that has been answered since does not pause the run.
    const replayed = translate([...edgeHistory.slice(0, 7), asked], 0, undefined, undefined, {
      headAtStart: 20,
    });
    assert.ok(!replayed.some((e) => e.type === 'RUN_FINISHED'));
    // Without interrupts (a watcher), the question is a CUSTOM event and the run goes on.
    const watching = translate([...edgeHistory.slice(0, 7), asked], 0, undefined, undefined, {
      interrupts: false,
    });
    assert.ok(!watching.some((e) => e.type === 'RUN_FINISHED'));
    const custom = watching.at(-2)!;
    assert.equal(custom.type === 'CUSTOM' && custom.name, 'question:asked');
  });
});
