import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it, mock } from 'node:test';
import {
  HttpAgent,
  type AgentSubscriber,
  type BaseEvent,
  type Message,
  type RunAgentInput,
} from '@ag-ui/client';
import { EventSchema } from '@ag-ui/core/schemas';
import { reduceTaskEvents, type AnyEnvelope } from '@agentwire/protocol';
import { agUiState } from './state.js';
import { startAgUiKit, type AgUiKit, type Script } from '../testing/agui-kit.js';
import { waitUntil } from '../testing/wait.js';

/**
 * `@ag-ui/client`'s HttpAgent, unchanged, against a running gateway whose worker streams
 * messages, sub-agents, a tool call and a question: every event it receives must pass
 * `@ag-ui/core`'s schema and the client's own verifier (a violation fails `runAgent`), and what the
 * client ends up holding must be what the task's history says.
 */

type Received = BaseEvent & { metadata?: { agentwire?: { seq: number; epoch: string; prelude?: boolean } } };

let kit: AgUiKit;
const warnings: string[] = [];

before(async () => {
  kit = await startAgUiKit();
  // The client warns (and strips) when an event carries what the protocol does not describe.
  mock.method(console, 'warn', (...args: unknown[]) => warnings.push(args.map(String).join(' ')));
});
beforeEach(() => {
  warnings.length = 0;
});
after(async () => {
  mock.restoreAll();
  await kit.close();
});

/** An HttpAgent on a new thread whose user asks `prompt`; `script` steers the test worker. */
function newAgent(prompt = 'vector databases', threadId = randomUUID(), url = kit.url): HttpAgent {
  const agent = new HttpAgent({ url, threadId });
  agent.addMessage({ id: randomUUID(), role: 'user', content: prompt });
  return agent;
}

/** Runs the agent, recording (and schema-checking) every event it receives. */
async function run(
  agent: HttpAgent,
  params: Parameters<HttpAgent['runAgent']>[0] = {},
  events: Received[] = [],
  subscriber: AgentSubscriber = {},
) {
  const result = await agent.runAgent(params, {
    ...subscriber,
    onEvent: (p) => {
      const parsed = EventSchema.safeParse(p.event);
      assert.ok(
        parsed.success,
        `${p.event.type} fails @ag-ui/core's schema: ${JSON.stringify(parsed.error?.issues)}`,
      );
      events.push(p.event as Received);
      return subscriber.onEvent?.(p);
    },
  });
  return { result, events };
}

const script = (s: Script) => ({ forwardedProps: { script: s } });
const types = (events: Received[]): string[] => events.map((e) => e.type);
const seqOf = (e: Received) => e.metadata?.agentwire?.seq;
/** Events that came from a stored event (not a run's opening, nor the client's own abort error). */
const fromLog = (events: Received[]) =>
  events.filter((e) => typeof seqOf(e) === 'number' && e.metadata?.agentwire?.prelude !== true);
/** Messages without the metadata the client merged into them from events (positions differ). */
const withoutMetadata = (messages: Message[]): unknown =>
  JSON.parse(JSON.stringify(messages, (key, value: unknown) => (key === 'metadata' ? undefined : value)));

/** What the client must hold once it has seen the whole task: the reducer's state over its history. */
async function expectedState(taskId: string) {
  const history = await kit.history(taskId);
  return { history, state: JSON.parse(JSON.stringify(agUiState(reduceTaskEvents(history)!))) as unknown };
}

/** The assistant text the task's history holds, by message id. */
function textsOf(history: AnyEnvelope[]): Map<string, string> {
  const texts = new Map<string, string>();
  for (const e of history) {
    if (e.type === 'message:start') texts.set(e.data.messageId, '');
    if (e.type === 'message:delta')
      texts.set(e.data.messageId, (texts.get(e.data.messageId) ?? '') + e.data.delta);
  }
  return texts;
}

describe('AG-UI out: HttpAgent against the gateway', () => {
  it('runs a new thread to completion: the task starts on a worker, every event is AG-UI and carries its seq', async () => {
    const agent = newAgent('vector databases');
    const { result, events } = await run(agent, script({}));
    assert.deepEqual(result.result, { hits: 2 });

    const t = types(events);
    assert.equal(t[0], 'RUN_STARTED');
    assert.equal(t.at(-1), 'RUN_FINISHED');
    for (const type of [
      'STATE_SNAPSHOT',
      'STATE_DELTA',
      'STEP_STARTED',
      'STEP_FINISHED',
      'SUBAGENT_STARTED',
      'SUBAGENT_FINISHED',
      'TEXT_MESSAGE_START',
      'TEXT_MESSAGE_CONTENT',
      'TEXT_MESSAGE_END',
      'TOOL_CALL_START',
      'TOOL_CALL_ARGS',
      'TOOL_CALL_END',
      'TOOL_CALL_RESULT',
    ]) {
      assert.ok(t.includes(type), `the run has ${type}`);
    }
    assert.equal(events.filter((e) => e.type === 'RUN_STARTED').length, 1);
    const finished = events.at(-1) as Received & { outcome?: { type: string } };
    assert.deepEqual(finished.outcome, { type: 'success' });

    // Every event carries the seq it came from, in order, and the seqs are the history's.
    const { history, state } = await expectedState(agent.threadId);
    const seqs = fromLog(events).map(seqOf);
    assert.ok(seqs.every((s) => typeof s === 'number'));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a! - b!),
      'in seq order',
    );
    const historySeqs = new Set(history.map((e) => e.seq));
    assert.ok(seqs.every((s) => historySeqs.has(s!)));
    assert.equal(seqs.at(-1), history.at(-1)!.seq, 'the run ends on the task:complete');

    // The stage and the sub-agents: planner spawned researcher.
    const spawned = events.filter((e) => e.type === 'SUBAGENT_STARTED') as (Received & {
      name: string;
      subagentRunId: string;
      parentSubagentRunId?: string;
    })[];
    assert.deepEqual(
      spawned.map((s) => s.name),
      ['planner', 'researcher'],
    );
    assert.equal(spawned[1]!.parentSubagentRunId, spawned[0]!.subagentRunId);
    assert.deepEqual(
      events.filter((e) => e.type === 'STEP_STARTED' && !('subagentRunId' in e)).map((e) => e.stepName),
      ['research', 'writing'],
    );

    // What the client holds is what the history says.
    assert.deepEqual(agent.state, state);
    const texts = textsOf(history);
    const assistant = agent.messages.filter((m) => m.role === 'assistant' && typeof m.content === 'string');
    assert.deepEqual(
      assistant.map((m) => m.content),
      [...texts.values()],
    );
    const toolCall = agent.messages.find((m) => m.role === 'assistant' && m.toolCalls?.length);
    assert.equal(toolCall?.role === 'assistant' && toolCall.toolCalls?.[0]?.function.name, 'search');
    const toolResult = agent.messages.find((m) => m.role === 'tool');
    assert.equal(toolResult?.content, JSON.stringify(['doc-1', 'doc-2']));
    // The started task is the thread's, with the prompt as its input.
    const start = history[0]!;
    assert.equal(start.type, 'task:start');
    assert.equal(start.type === 'task:start' && start.data.kind, 'agent');
    assert.equal(
      start.type === 'task:start' && (start.data.input as { prompt: string }).prompt,
      'vector databases',
    );
    assert.deepEqual(warnings, [], 'the client warned about nothing');
  });

  it('refuses a thread whose kind no worker handles with RUN_ERROR no_worker, starting nothing', async () => {
    const agent = newAgent('x', randomUUID(), `${kit.url}?kind=nobody-handles-this`);
    const errors: unknown[] = [];
    const { events } = await run(agent, {}, [], { onRunErrorEvent: ({ event }) => void errors.push(event) });
    assert.deepEqual(types(events), ['RUN_ERROR']);
    assert.equal((events[0] as Received & { code: string }).code, 'no_worker');
    assert.equal(errors.length, 1);
    assert.deepEqual(await kit.history(agent.threadId), []);
  });

  it('resumes after a disconnect from Last-Event-ID with no gap and no duplicate', async () => {
    const agent = newAgent('resume me');
    const threadId = agent.threadId;
    const first: Received[] = [];
    const running = run(agent, script({ gates: true }), first);
    await kit.gates.reached(`${threadId}:mid-message`);
    await waitUntil(
      () =>
        first.some(
          (e) => e.type === 'TEXT_MESSAGE_CONTENT' && (e as Received & { delta: string }).delta === 'Found ',
        ),
      'the half-written message to arrive',
    );
    agent.abortRun();
    await running;
    const lastSeq = Math.max(...fromLog(first).map((e) => seqOf(e)!));

    // The task goes on without the client: more events are stored while it is away.
    kit.gates.open(`${threadId}:mid-message`);
    await kit.gates.reached(`${threadId}:late`);
    assert.ok((await kit.history(threadId)).length > lastSeq + 3, 'events were missed');

    agent.headers = { ...agent.headers, 'Last-Event-ID': String(lastSeq) };
    const second: Received[] = [];
    const resumed = run(agent, {}, second);
    await waitUntil(() => second.length > 0, 'the resumed run to start');
    kit.gates.open(`${threadId}:late`);
    const { result } = await resumed;
    assert.deepEqual(result.result, { hits: 2 });

    const opening = second.filter((e) => e.metadata?.agentwire?.prelude);
    assert.equal(opening[0]?.type, 'RUN_STARTED');
    assert.ok(
      !opening.some((e) => e.type === 'MESSAGES_SNAPSHOT' || e.type === 'STATE_SNAPSHOT'),
      'a resume, not a snapshot',
    );
    // The half-written message is reopened, not restarted: its text continues.
    assert.ok(opening.some((e) => e.type === 'TEXT_MESSAGE_START'));
    const before = fromLog(first).map(seqOf) as number[];
    const afterIt = fromLog(second).map(seqOf) as number[];
    assert.ok(
      afterIt.every((s) => s > lastSeq),
      'nothing the client had came again',
    );
    assert.equal(afterIt[0], lastSeq + 1, 'the first missed event is the first it gets');
    const { history, state } = await expectedState(threadId);
    assert.equal(afterIt.at(-1), history.at(-1)!.seq);
    assert.ok(before.every((s) => s <= lastSeq));

    // No gap and no duplicate: the client's state and text equal the history's.
    assert.deepEqual(agent.state, state);
    const texts = [...textsOf(history).values()];
    assert.deepEqual(
      agent.messages
        .filter((m) => m.role === 'assistant' && typeof m.content === 'string')
        .map((m) => m.content),
      texts,
    );
    assert.ok(texts.includes('Found 2 sources'));
    assert.deepEqual(warnings, []);
  });

  it('gives a late joiner a snapshot prelude, and resumes from a position sent in forwardedProps', async () => {
    const watcher = newAgent('watch me');
    const threadId = watcher.threadId;
    const first: Received[] = [];
    const running = run(watcher, script({ gates: true }), first);
    await kit.gates.reached(`${threadId}:mid-message`);

    // A second client that has nothing: the prelude, then the tail.
    const late = new HttpAgent({ url: kit.url, threadId });
    const lateEvents: Received[] = [];
    const joined = run(late, {}, lateEvents);
    await waitUntil(() => lateEvents.some((e) => e.type === 'STATE_SNAPSHOT'), 'the prelude');
    const opening = lateEvents.filter((e) => e.metadata?.agentwire?.prelude);
    assert.deepEqual(opening.map((e) => e.type).slice(0, 3), [
      'RUN_STARTED',
      'MESSAGES_SNAPSHOT',
      'STATE_SNAPSHOT',
    ]);
    // In flight at the join: both sub-agents, the stage, and the half-written message.
    assert.ok(opening.some((e) => e.type === 'TEXT_MESSAGE_START'));
    assert.equal(opening.filter((e) => e.type === 'SUBAGENT_STARTED').length, 2);
    const snapshot = opening[1] as Received & { messages: Message[] };
    assert.equal(snapshot.messages[0]?.role, 'user', "the thread's prompt comes first");

    // The first client drops, misses events, and comes back saying where it was.
    await waitUntil(
      () =>
        first.some(
          (e) => e.type === 'TEXT_MESSAGE_CONTENT' && (e as Received & { delta: string }).delta === 'Found ',
        ),
      'the half-written message',
    );
    watcher.abortRun();
    await running;
    const last = fromLog(first).at(-1)!.metadata!.agentwire!;
    kit.gates.open(`${threadId}:mid-message`);
    await kit.gates.reached(`${threadId}:late`);
    const second: Received[] = [];
    const resumed = run(
      watcher,
      { forwardedProps: { agentwire: { since: { seq: last.seq, epoch: last.epoch } } } },
      second,
    );
    await waitUntil(() => second.length > 0, 'the resumed run');
    kit.gates.open(`${threadId}:late`);
    await Promise.all([resumed, joined]);
    assert.equal(seqOf(fromLog(second)[0]!), last.seq + 1);

    const { state } = await expectedState(threadId);
    assert.deepEqual(watcher.state, state);
    assert.deepEqual(late.state, state, 'the late joiner ends where the history does');
    assert.deepEqual(withoutMetadata(late.messages), withoutMetadata(watcher.messages));
    assert.deepEqual(warnings, []);
  });

  it('turns a question into an interrupt, and a resume carrying the answer answers it', async () => {
    const agent = newAgent('ask me');
    const threadId = agent.threadId;
    const paused = await run(agent, script({ ask: true }));
    const finished = paused.events.at(-1) as Received & { outcome?: { type: string } };
    assert.equal(finished.type, 'RUN_FINISHED');
    assert.equal(finished.outcome?.type, 'interrupt');
    assert.equal(agent.pendingInterrupts.length, 1);
    const interrupt = agent.pendingInterrupts[0]!;
    assert.equal(interrupt.message, 'Publish the report?');
    assert.deepEqual(interrupt.responseSchema, { type: 'string', enum: ['yes', 'no'] });
    // The run paused; the task did not: it waits for the answer.
    const history = await kit.history(threadId);
    assert.ok(history.some((e) => e.type === 'question:asked'));
    assert.ok(!history.some((e) => e.type === 'task:complete' || e.type === 'task:cancelled'));

    // An answer the question does not accept is refused; the interrupt stays pending.
    const refused = await run(agent, {
      resume: [{ interruptId: interrupt.id, status: 'resolved', payload: 'maybe' }],
    });
    assert.deepEqual(types(refused.events), ['RUN_ERROR']);
    assert.equal((refused.events[0] as Received & { code: string }).code, 'invalid_answer');
    assert.equal(agent.pendingInterrupts.length, 1);

    const resumed = await run(agent, {
      resume: [{ interruptId: interrupt.id, status: 'resolved', payload: 'yes' }],
    });
    assert.deepEqual(resumed.result.result, { hits: 2, answer: 'yes' });
    assert.equal(agent.pendingInterrupts.length, 0);
    const answered = (await kit.history(threadId)).find((e) => e.type === 'question:answered');
    assert.equal(answered?.type === 'question:answered' && answered.data.answer, 'yes');
    // It picked up where the interrupt stopped: no event twice, none missed.
    const pausedSeqs = fromLog(paused.events).map(seqOf) as number[];
    const resumedSeqs = fromLog(resumed.events).map(seqOf) as number[];
    assert.equal(resumedSeqs[0], Math.max(...pausedSeqs) + 1);
    const { state } = await expectedState(threadId);
    assert.deepEqual(agent.state, state);
    assert.ok(
      agent.messages.some((m) => m.role === 'assistant' && m.content === 'Report ready (answer: yes).'),
    );
    assert.deepEqual(warnings, []);
  });

  it('answers with the resume entries even when the client also says where it is', async () => {
    const agent = newAgent('ask with a position');
    await run(agent, script({ ask: true }));
    const interrupt = agent.pendingInterrupts[0]!;
    const at = (interrupt.metadata as { agentwire: { seq: number; epoch: string } }).agentwire;
    const resumed = await run(agent, {
      resume: [{ interruptId: interrupt.id, status: 'resolved', payload: 'no' }],
      forwardedProps: { agentwire: { since: { seq: at.seq, epoch: at.epoch } } },
    });
    assert.deepEqual(resumed.result.result, { hits: 2, answer: 'no' });
    assert.equal(seqOf(fromLog(resumed.events)[0]!), at.seq + 1);
  });

  it('treats aborting the request as a disconnect: the task runs on to completion', async () => {
    const agent = newAgent('leave early');
    const threadId = agent.threadId;
    const events: Received[] = [];
    const running = run(agent, script({ gates: true }), events);
    await kit.gates.reached(`${threadId}:mid-message`);
    agent.abortRun();
    await running;
    kit.gates.open(`${threadId}:mid-message`);
    kit.gates.open(`${threadId}:late`);
    assert.equal((await kit.outcome(threadId)).status, 'completed');
    const complete = await kit.committed(threadId, (e) => e.type === 'task:complete');
    assert.ok(complete);
    assert.ok(!(await kit.history(threadId)).some((e) => e.type === 'task:cancelled'));
  });

  it('cancels through the documented endpoint: the agent stops, the run ends RUN_ERROR cancelled', async () => {
    const agent = newAgent('talk forever');
    const threadId = agent.threadId;
    const events: Received[] = [];
    const running = run(agent, script({ endless: true }), events);
    await waitUntil(
      () => events.filter((e) => e.type === 'TEXT_MESSAGE_CONTENT').length > 10,
      'the endless message to stream',
    );
    const response = await fetch(`${kit.url}/threads/${threadId}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'enough' }),
    });
    assert.equal(response.status, 200);
    await running;
    const last = events.at(-1) as Received & { code?: string; message?: string };
    assert.equal(last.type, 'RUN_ERROR');
    assert.equal(last.code, 'cancelled');
    assert.match(last.message ?? '', /enough/);
    assert.ok(!types(events).includes('RUN_FINISHED'), 'never a successful finish');

    // The producer really stopped: its handler saw the abort, and nothing followed the cancel.
    const outcome = await kit.outcome(threadId);
    assert.equal(outcome.status, 'aborted');
    await kit.producer.flush();
    const history = await kit.history(threadId);
    assert.equal(history.at(-1)!.type, 'task:cancelled');
  });

  it('cancels from the client itself: forwardedProps.agentwire.cancel, or declining the interrupt', async () => {
    const streaming = newAgent('stop me');
    const events: Received[] = [];
    const running = run(streaming, script({ endless: true }), events);
    await waitUntil(() => events.some((e) => e.type === 'TEXT_MESSAGE_CONTENT'), 'tokens');
    streaming.abortRun();
    await running;
    const stopper = new HttpAgent({ url: kit.url, threadId: streaming.threadId });
    const stopped = await run(stopper, {
      forwardedProps: { agentwire: { cancel: { reason: 'from the UI' } } },
    });
    assert.equal(stopped.events.at(-1)?.type, 'RUN_ERROR');
    assert.equal((stopped.events.at(-1) as Received & { code: string }).code, 'cancelled');
    assert.equal((await kit.outcome(streaming.threadId)).status, 'aborted');

    const asking = newAgent('ask then decline');
    await run(asking, script({ ask: true }));
    const interrupt = asking.pendingInterrupts[0]!;
    const declined = await run(asking, { resume: [{ interruptId: interrupt.id, status: 'cancelled' }] });
    assert.equal(declined.events.at(-1)?.type, 'RUN_ERROR');
    assert.equal((declined.events.at(-1) as Received & { code: string }).code, 'cancelled');
    assert.equal((await kit.outcome(asking.threadId)).status, 'aborted');
  });

  it('attaches with connect(): a subclass wiring the protected hook to /v1/agui/connect', async () => {
    class ConnectingAgent extends HttpAgent {
      protected override connect(input: RunAgentInput) {
        return new HttpAgent({ url: `${this.url}/connect`, threadId: this.threadId }).run(input);
      }
    }
    const owner = newAgent('connect to me');
    const running = run(owner, script({ gates: true }));
    await kit.gates.reached(`${owner.threadId}:mid-message`);
    const attached = new ConnectingAgent({ url: kit.url, threadId: owner.threadId });
    const events: Received[] = [];
    const connecting = attached.connectAgent(
      {},
      { onEvent: ({ event }) => void events.push(event as Received) },
    );
    await waitUntil(() => events.some((e) => e.type === 'STATE_SNAPSHOT'), 'the prelude');
    kit.gates.open(`${owner.threadId}:mid-message`);
    kit.gates.open(`${owner.threadId}:late`);
    await Promise.all([running, connecting]);
    assert.equal(events.at(-1)?.type, 'RUN_FINISHED');
    assert.deepEqual(attached.state, owner.state);

    // connect never starts anything: an unknown thread is not_found.
    const nobody = new ConnectingAgent({ url: kit.url, threadId: randomUUID() });
    const refused: Received[] = [];
    await nobody.connectAgent({}, { onEvent: ({ event }) => void refused.push(event as Received) });
    assert.deepEqual(types(refused), ['RUN_ERROR']);
    assert.equal((refused[0] as Received & { code: string }).code, 'not_found');
    assert.deepEqual(await kit.history(nobody.threadId), []);
  });

  it('refuses malformed requests with typed HTTP errors', async () => {
    const post = (body: unknown, path = '') =>
      fetch(`${kit.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const bad = await post({ threadId: 't' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_message');
    const json = await post('{');
    assert.equal(((await json.json()) as { error: { code: string } }).error.code, 'bad_json');
    const badThread = await post({ threadId: 'no spaces allowed', runId: 'r', messages: [] });
    assert.equal(((await badThread.json()) as { error: { code: string } }).error.code, 'invalid_stream');
    const props = await post({
      threadId: 'x',
      runId: 'r',
      messages: [],
      forwardedProps: { agentwire: { kind: 7 } },
    });
    assert.equal(((await props.json()) as { error: { code: string } }).error.code, 'invalid_message');
    const get = await fetch(kit.url);
    assert.equal(get.status, 405);
    const nowhere = await post({}, '/elsewhere');
    assert.equal(nowhere.status, 404);
  });
});

describe('AG-UI runs when the gateway shuts down', () => {
  it('end with RUN_ERROR shutting_down, after events that carry the seq to resume from', async () => {
    const own = await startAgUiKit();
    const agent = newAgent('shut down under me', randomUUID(), own.url);
    const events: Received[] = [];
    const running = run(agent, script({ gates: true }), events);
    await own.gates.reached(`${agent.threadId}:mid-message`);
    await waitUntil(
      () =>
        events.some(
          (e) => e.type === 'TEXT_MESSAGE_CONTENT' && (e as Received & { delta: string }).delta === 'Found ',
        ),
      'the half-written message',
    );
    const closing = own.gateway.close({ graceMs: 2_000 });
    await running;
    const last = events.at(-1) as Received & { code?: string };
    assert.equal(last.type, 'RUN_ERROR');
    assert.equal(last.code, 'shutting_down');
    const before = fromLog(events.slice(0, -1)).at(-1)!;
    assert.deepEqual(last.metadata?.agentwire, before.metadata?.agentwire, 'it says where the client is');
    await closing;
    await own.producer.close();
  });
});
