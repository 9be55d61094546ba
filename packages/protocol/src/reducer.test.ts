import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventDataMap, EventType } from './catalog.js';
import type { AnyEnvelope } from './envelope.js';
import {
  emptyTaskState,
  isTerminal,
  openQuestions,
  reduceTask,
  reduceTaskEvents,
  SNAPSHOT_LOG_LIMIT,
  type TaskState,
} from './reducer.js';

const T0 = 1_700_000_000_000;

/** Builds one stream's history the way the log would: seq 1, 2, 3 … and a clock 10 ms per event. */
function stream(name = 'task:t1', epoch = 'ep-1') {
  const events: AnyEnvelope[] = [];
  const add = <T extends EventType>(type: T, data: EventDataMap[T]): AnyEnvelope => {
    const seq = events.length + 1;
    const e = { stream: name, epoch, seq, id: `evt-${seq}`, type, time: T0 + seq * 10, data } as AnyEnvelope;
    events.push(e);
    return e;
  };
  const timeOf = (seq: number) => T0 + seq * 10;
  return { events, add, timeOf };
}

function fold(events: readonly AnyEnvelope[]): TaskState {
  const state = reduceTaskEvents(events);
  assert.ok(state, 'a non-empty history folds to a state');
  return state;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** A research task: stages, progress, a tree of agents, a retried tool, a token stream, memory, logs, questions. */
function researchTask() {
  const s = stream();
  s.add('task:start', {
    taskId: 't1',
    title: 'Compare vector databases',
    kind: 'research',
    projectId: 'acme',
    input: { topic: 'vector databases' },
    stages: ['plan', 'search', 'write'],
    estimatedMs: 60_000,
  });
  s.add('task:stage', { stage: 'plan', message: 'Planning the search' });
  s.add('agent:spawned', { agentId: 'planner', name: 'Planner', role: 'lead', model: 'model-large' });
  s.add('agent:spawned', { agentId: 'searcher', name: 'Searcher', parentId: 'planner' });
  s.add('agent:spawned', { agentId: 'writer', name: 'Writer', parentId: 'planner', model: 'model-small' });
  s.add('task:progress', { percent: 10, current: 1, total: 10 });
  s.add('task:stage', { stage: 'search' });
  s.add('agent:progress', {
    agentId: 'searcher',
    status: 'searching',
    activity: 'reading sources',
    percent: 40,
  });
  s.add('tool:executing', {
    callId: 'c1',
    tool: 'web_search',
    agentId: 'searcher',
    args: { q: 'vector db' },
    attempt: 1,
  });
  s.add('tool:failed', {
    callId: 'c1',
    tool: 'web_search',
    agentId: 'searcher',
    error: { message: 'rate limited', code: 'E429' },
    durationMs: 120,
    retryable: true,
  });
  s.add('tool:executing', {
    callId: 'c1',
    tool: 'web_search',
    agentId: 'searcher',
    args: { q: 'vector db' },
    attempt: 2,
  });
  s.add('tool:complete', { callId: 'c1', durationMs: 80, result: { hits: 3 } });
  s.add('tool:executing', { callId: 'c2', tool: 'fetch_page', agentId: 'searcher' });
  s.add('memory:recalled', {
    agentId: 'searcher',
    query: 'past comparisons',
    memories: [{ content: 'a' }, { content: 'b', score: 0.9 }, { id: 'm3', content: 'c', source: 'notes' }],
  });
  s.add('memory:recalled', { memories: [{ content: 'd' }, { content: 'e' }] });
  for (let i = 1; i <= 60; i++) {
    s.add('log:entry', {
      level: i % 10 === 0 ? 'warn' : 'info',
      message: `line ${i}`,
      ...(i % 2 === 0 && { agentId: 'searcher' }),
      ...(i === 60 && { fields: { url: 'https://example.com' } }),
    });
  }
  s.add('question:asked', {
    questionId: 'q1',
    prompt: 'Include hosted offerings?',
    agentId: 'planner',
    options: [{ value: 'yes', label: 'Yes' }, { value: 'no' }],
    timeoutMs: 30_000,
  });
  s.add('question:asked', { questionId: 'q2', prompt: 'Budget?', schema: { type: 'number' } });
  s.add('question:answered', { questionId: 'q1', answer: 'yes', by: 'alice' });
  s.add('agent:complete', { agentId: 'searcher', summary: 'Found 3 sources' });
  s.add('agent:handoff', { from: 'planner', to: 'writer', reason: 'research done' });
  s.add('task:stage', { stage: 'write', message: 'Drafting' });
  s.add('message:start', { messageId: 'm1', role: 'assistant', agentId: 'writer' });
  s.add('message:delta', { messageId: 'm1', delta: 'Hel' });
  s.add('message:delta', { messageId: 'm1', delta: 'lo' });
  s.add('message:end', { messageId: 'm1' });
  s.add('chat:message', { messageId: 'm2', text: 'Thanks!', from: 'alice' });
  s.add('custom:event', { name: 'cost', payload: { usd: 0.12 } });
  s.add('question:answered', { questionId: 'q2', answer: null, timedOut: true });
  return s;
}

describe('reduceTask: a research task from start to finish', () => {
  const s = researchTask();
  const running = fold(s.events);
  const complete = reduceTask(running, s.add('task:complete', { result: { winner: 'x' }, summary: 'Done' }));

  it('records the task, its stage and merged progress', () => {
    assert.equal(running.stream, 'task:t1');
    assert.equal(running.taskId, 't1');
    assert.equal(running.epoch, 'ep-1');
    assert.equal(running.title, 'Compare vector databases');
    assert.equal(running.kind, 'research');
    assert.equal(running.projectId, 'acme');
    assert.deepEqual(running.stages, ['plan', 'search', 'write']);
    assert.equal(running.estimatedMs, 60_000);
    assert.equal(running.status, 'running');
    assert.equal(running.stage, 'write');
    assert.equal(running.createdAt, s.timeOf(1));
    assert.equal(running.startedAt, s.timeOf(1));
    // task:progress set the counters; a later task:stage message only replaced the message.
    assert.deepEqual(running.progress, { percent: 10, current: 1, total: 10, message: 'Drafting' });
  });

  it('builds the agent tree in spawn order', () => {
    assert.deepEqual(running.agentOrder, ['planner', 'searcher', 'writer']);
    assert.deepEqual(running.agents.planner, {
      id: 'planner',
      name: 'Planner',
      role: 'lead',
      model: 'model-large',
      status: 'running',
      startedAt: s.timeOf(3),
      activity: 'handed off to writer',
    });
    assert.equal(running.agents.searcher?.parentId, 'planner');
    assert.equal(running.agents.writer?.parentId, 'planner');
    assert.deepEqual(running.agents.searcher, {
      id: 'searcher',
      name: 'Searcher',
      parentId: 'planner',
      status: 'completed',
      startedAt: s.timeOf(4),
      endedAt: s.timeOf(s.events.findIndex((e) => e.type === 'agent:complete') + 1),
      detail: 'searching',
      activity: 'calling fetch_page',
      percent: 100,
    });
    assert.equal(running.agents.writer?.status, 'running');
  });

  it('tracks tool calls through a failed attempt, a retry and completion', () => {
    assert.deepEqual(running.toolOrder, ['c1', 'c2']);
    const c1 = running.tools.c1!;
    assert.equal(c1.status, 'completed');
    assert.equal(c1.attempt, 2);
    assert.equal(c1.durationMs, 80);
    assert.deepEqual(c1.result, { hits: 3 });
    assert.equal(c1.error, undefined, 'the retry starts clean');
    assert.equal(c1.startedAt, s.timeOf(11));
    assert.equal(c1.endedAt, s.timeOf(12));
    assert.equal(running.tools.c2?.status, 'running');

    const afterFailure = fold(s.events.slice(0, 10)).tools.c1!;
    assert.equal(afterFailure.status, 'failed');
    assert.deepEqual(afterFailure.error, { message: 'rate limited', code: 'E429' });
    assert.equal(afterFailure.durationMs, 120);
    assert.equal(afterFailure.attempt, 1);
  });

  it('assembles streamed messages and watcher chat', () => {
    assert.deepEqual(running.messageOrder, ['m1', 'm2']);
    assert.deepEqual(running.messages.m1, {
      messageId: 'm1',
      role: 'assistant',
      agentId: 'writer',
      text: 'Hello',
      done: true,
    });
    assert.deepEqual(running.messages.m2, { messageId: 'm2', role: 'user', text: 'Thanks!', done: true });
    const midStream = fold(
      s.events.slice(
        0,
        s.events.findIndex((e) => e.type === 'message:end'),
      ),
    );
    assert.deepEqual(
      { text: midStream.messages.m1?.text, done: midStream.messages.m1?.done },
      { text: 'Hello', done: false },
    );
  });

  it('counts recalled memories and keeps only the last log lines', () => {
    assert.equal(running.memoriesRecalled, 5);
    assert.equal(running.logs.length, SNAPSHOT_LOG_LIMIT);
    assert.equal(running.logs[0]?.message, `line ${60 - SNAPSHOT_LOG_LIMIT + 1}`);
    const last = running.logs[running.logs.length - 1]!;
    const lastLog = s.events.filter((e) => e.type === 'log:entry').at(-1)!;
    assert.deepEqual(last, {
      seq: lastLog.seq,
      time: lastLog.time,
      level: 'warn',
      message: 'line 60',
      agentId: 'searcher',
      fields: { url: 'https://example.com' },
    });
    assert.equal(running.logs[1]?.agentId, 'searcher');
    assert.ok(!('agentId' in running.logs[0]!), 'line 11 had no agent, and no agentId key');
  });

  it('tracks questions: asked, answered, timed out', () => {
    assert.deepEqual(running.questions.q1, {
      questionId: 'q1',
      prompt: 'Include hosted offerings?',
      agentId: 'planner',
      options: [{ value: 'yes', label: 'Yes' }, { value: 'no' }],
      timeoutMs: 30_000,
      askedAt: s.timeOf(s.events.findIndex((e) => e.type === 'question:asked') + 1),
      status: 'answered',
      answer: 'yes',
      by: 'alice',
    });
    assert.equal(running.questions.q2?.status, 'timedout');
    assert.equal(running.questions.q2?.answer, null);
    assert.deepEqual(openQuestions(running), []);
    const beforeAnswers = fold(
      s.events.slice(
        0,
        s.events.findIndex((e) => e.type === 'question:answered'),
      ),
    );
    assert.deepEqual(
      openQuestions(beforeAnswers).map((q) => q.questionId),
      ['q1', 'q2'],
    );
  });

  it('counts every event and follows the last seq and time', () => {
    assert.equal(running.seq, s.events.length - 1);
    assert.equal(running.eventCount, s.events.length - 1);
    assert.equal(running.updatedAt, s.timeOf(running.seq));
  });

  it('completes: result, 100 %, open agents completed, open tool calls cancelled', () => {
    assert.equal(complete.status, 'completed');
    assert.ok(isTerminal(complete));
    assert.deepEqual(complete.result, { winner: 'x' });
    assert.equal(complete.summary, 'Done');
    assert.equal(complete.endedAt, s.timeOf(complete.seq));
    assert.equal(complete.progress?.percent, 100);
    assert.equal(complete.agents.planner?.status, 'completed');
    assert.equal(complete.agents.writer?.status, 'completed');
    assert.equal(complete.agents.writer?.endedAt, complete.endedAt);
    // Already finished: untouched, same object.
    assert.equal(complete.agents.searcher, running.agents.searcher);
    assert.equal(complete.tools.c2?.status, 'cancelled');
    assert.equal(complete.tools.c1, running.tools.c1);
  });

  it('never holds undefined, so it equals its own JSON round-trip (what a snapshot delivers)', () => {
    assert.deepStrictEqual(JSON.parse(JSON.stringify(running)), running);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(complete)), complete);
  });
});

describe('reduceTask: failure and cancellation', () => {
  function inFlight() {
    const s = stream('task:t2');
    s.add('task:start', { taskId: 't2', title: 'Nightly import' });
    s.add('agent:spawned', { agentId: 'a', name: 'Importer' });
    s.add('agent:spawned', { agentId: 'b', name: 'Checker', parentId: 'a' });
    s.add('tool:executing', { callId: 'ca', tool: 'read_csv', agentId: 'a' });
    s.add('tool:executing', { callId: 'cb', tool: 'validate', agentId: 'b' });
    return s;
  }

  it('task:failed marks the task, fails running agents and cancels running tool calls', () => {
    const s = inFlight();
    s.add('agent:failed', { agentId: 'b', error: { message: 'schema mismatch' } });
    s.add('task:failed', { error: { message: 'deadline exceeded', code: 'timeout' }, reason: 'timeout' });
    const state = fold(s.events);
    assert.equal(state.status, 'failed');
    assert.equal(state.failureReason, 'timeout');
    assert.deepEqual(state.error, { message: 'deadline exceeded', code: 'timeout' });
    assert.equal(state.endedAt, s.timeOf(7));
    assert.equal(state.agents.a?.status, 'failed');
    assert.deepEqual(state.agents.b?.error, { message: 'schema mismatch' });
    assert.equal(state.agents.b?.endedAt, s.timeOf(6), 'an agent that already failed keeps its own end');
    assert.equal(state.tools.ca?.status, 'cancelled');
    assert.equal(state.tools.cb?.status, 'cancelled');
    assert.ok(isTerminal(state));
  });

  it('task:failed without a reason records "error"', () => {
    const s = inFlight();
    s.add('task:failed', { error: { message: 'boom' } });
    assert.equal(fold(s.events).failureReason, 'error');
  });

  it('task:cancelled ends the task and everything still running', () => {
    const s = inFlight();
    s.add('tool:complete', { callId: 'ca', durationMs: 5 });
    s.add('task:cancelled', { by: 'bob', reason: 'wrong file' });
    const state = fold(s.events);
    assert.equal(state.status, 'cancelled');
    assert.equal(state.cancelledBy, 'bob');
    assert.equal(state.cancelReason, 'wrong file');
    assert.equal(state.endedAt, s.timeOf(7));
    assert.equal(state.agents.a?.status, 'cancelled');
    assert.equal(state.agents.b?.status, 'cancelled');
    assert.equal(state.tools.ca?.status, 'completed');
    assert.equal(state.tools.cb?.status, 'cancelled');
  });

  it('task:cancelled with an agentId cancels only that agent and its tool calls', () => {
    const s = inFlight();
    const before = fold(s.events);
    const after = reduceTask(before, s.add('task:cancelled', { agentId: 'b', by: 'bob' }));
    assert.equal(after.status, 'running');
    assert.equal(after.cancelledBy, undefined);
    assert.equal(after.endedAt, undefined);
    assert.equal(after.agents.b?.status, 'cancelled');
    assert.equal(after.agents.b?.endedAt, s.timeOf(6));
    assert.equal(after.tools.cb?.status, 'cancelled');
    assert.equal(after.agents.a, before.agents.a, 'the other agent is the same object');
    assert.equal(after.tools.ca, before.tools.ca);
    assert.ok(!isTerminal(after));
  });

  it('a late task:start does not reopen a finished task', () => {
    const s = inFlight();
    s.add('task:cancelled', {});
    s.add('task:start', { taskId: 't2', title: 'Renamed' });
    const state = fold(s.events);
    assert.equal(state.status, 'cancelled');
    assert.equal(state.title, 'Renamed');
  });
});

describe('reduceTask: purity and sharing', () => {
  it('never mutates its input: every step reduces a deep-frozen prior state', () => {
    const s = researchTask();
    s.add('task:cancelled', { agentId: 'writer' });
    s.add('task:complete', { summary: 'ok' });
    let state: TaskState | undefined;
    for (const e of s.events) {
      const prior = state && deepFreeze(state);
      const copy = prior && structuredClone(prior);
      state = reduceTask(prior, e);
      if (prior) {
        assert.notEqual(state, prior, `${e.type} returns a new object`);
        assert.deepStrictEqual(prior, copy, `${e.type} left its input as it was`);
      }
    }
    assert.deepStrictEqual(state, fold(s.events));
  });

  it('ignores an event whose seq it has already folded, returning the same object', () => {
    const s = researchTask();
    const state = fold(s.events);
    for (const e of s.events) assert.equal(reduceTask(state, e), state, `replaying seq ${e.seq}`);
    assert.equal(reduceTaskEvents([...s.events.slice(-5), ...s.events], state), state);
  });

  it('folding a history twice in a row, as a reconnect replay would, changes nothing', () => {
    const s = researchTask();
    assert.deepStrictEqual(reduceTaskEvents([...s.events, ...s.events]), fold(s.events));
  });

  it('shares every branch an event does not touch', () => {
    const s = researchTask();
    const prior = fold(s.events);
    const branches = [
      'agents',
      'agentOrder',
      'tools',
      'toolOrder',
      'questions',
      'messages',
      'messageOrder',
      'logs',
      'progress',
      'stages',
    ] as const;
    const touched = (next: TaskState) => branches.filter((b) => next[b] !== prior[b]);

    const log = reduceTask(prior, s.add('log:entry', { level: 'info', message: 'x' }));
    assert.deepEqual(touched(log), ['logs']);

    const progress = reduceTask(log, s.add('agent:progress', { agentId: 'writer', activity: 'typing' }));
    assert.deepEqual(
      branches.filter((b) => progress[b] !== log[b]),
      ['agents'],
    );
    assert.equal(progress.agents.planner, log.agents.planner, 'other agents keep their identity');
    assert.notEqual(progress.agents.writer, log.agents.writer);

    const delta = reduceTask(progress, s.add('message:delta', { messageId: 'm1', delta: '!' }));
    assert.deepEqual(
      branches.filter((b) => delta[b] !== progress[b]),
      ['messages'],
    );
    assert.equal(delta.messages.m2, progress.messages.m2);

    const custom = reduceTask(delta, s.add('custom:event', { name: 'tick' }));
    assert.deepEqual(
      branches.filter((b) => custom[b] !== delta[b]),
      [],
    );
    assert.equal(custom.seq, delta.seq + 1);
  });
});

describe('reduceTask: edges', () => {
  it('starts from the first event it sees, pending until something runs', () => {
    const s = stream('task:edge');
    const first = reduceTask(undefined, s.add('log:entry', { level: 'debug', message: 'boot' }));
    assert.deepEqual(
      { ...first, logs: [] },
      { ...emptyTaskState('task:edge', 'ep-1', s.timeOf(1)), seq: 1, eventCount: 1, updatedAt: s.timeOf(1) },
    );
    assert.equal(first.status, 'pending');
    const spawned = reduceTask(first, s.add('agent:spawned', { agentId: 'a', name: 'A' }));
    assert.equal(spawned.status, 'running');
    const progress = reduceTask(
      reduceTask(undefined, s.add('task:progress', { message: 'warming up' })),
      s.add('task:progress', { percent: 5 }),
    );
    assert.equal(progress.status, 'running');
    assert.deepEqual(progress.progress, { message: 'warming up', percent: 5 });
  });

  it('tolerates events about things it never saw', () => {
    const s = stream();
    let state = reduceTask(undefined, s.add('task:start', { taskId: 't1', title: 'T' }));
    state = reduceTask(state, s.add('message:delta', { messageId: 'ghost', delta: 'x' }));
    state = reduceTask(state, s.add('message:end', { messageId: 'ghost' }));
    state = reduceTask(state, s.add('question:answered', { questionId: 'ghost', answer: 1 }));
    assert.deepEqual(state.messages, {});
    assert.deepEqual(state.questions, {});
    assert.equal(state.seq, 4);

    state = reduceTask(state, s.add('tool:complete', { callId: 'late', durationMs: 30, agentId: 'x' }));
    assert.deepEqual(state.tools.late, {
      callId: 'late',
      tool: 'unknown',
      agentId: 'x',
      status: 'completed',
      startedAt: s.timeOf(5) - 30,
      endedAt: s.timeOf(5),
      durationMs: 30,
    });
    state = reduceTask(state, s.add('agent:progress', { agentId: 'stranger', percent: 50 }));
    assert.deepEqual(state.agents.stranger, {
      id: 'stranger',
      name: 'stranger',
      status: 'running',
      startedAt: s.timeOf(6),
      percent: 50,
    });
    assert.deepEqual(state.agentOrder, ['stranger']);
  });

  it('keeps the state and counts the event when the type is newer than this build', () => {
    const s = stream();
    const state = reduceTask(undefined, s.add('task:start', { taskId: 't1', title: 'T' }));
    const future = {
      ...s.events[0]!,
      seq: 2,
      id: 'evt-2',
      type: 'task:paused',
      data: {},
    } as unknown as AnyEnvelope;
    const next = reduceTask(state, future);
    assert.ok(next, 'a state, not undefined');
    assert.equal(next.seq, 2);
    assert.equal(next.eventCount, 2);
    assert.equal(next.title, 'T');
  });

  it('folds an event of another epoch even with a lower seq: detecting a reset is the caller’s job', () => {
    const s = stream();
    const state = reduceTask(undefined, s.add('task:start', { taskId: 't1', title: 'T' }));
    const again = reduceTask(state, s.add('log:entry', { level: 'info', message: 'x' }));
    const other = reduceTask(again, { ...s.events[0]!, epoch: 'ep-2' });
    assert.equal(other.epoch, 'ep-2');
    assert.equal(other.seq, 1);
  });

  it('names the task after the stream when the stream is not a task stream', () => {
    assert.equal(emptyTaskState('project:acme', 'e', 0).taskId, 'project:acme');
    assert.equal(emptyTaskState('task:42', 'e', 0).taskId, '42');
  });

  it('ignores __proto__ keys in event data', () => {
    const s = stream();
    const data = JSON.parse('{"percent":5,"__proto__":{"polluted":true}}') as EventDataMap['task:progress'];
    const state = reduceTask(undefined, s.add('task:progress', data));
    assert.deepEqual(state.progress, { percent: 5 });
    assert.equal(Object.getPrototypeOf(state.progress), Object.prototype);
    assert.equal((state.progress as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('treats ids that are names of Object.prototype (__proto__, constructor, toString) as any other id', () => {
    for (const id of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const s = stream();
      s.add('task:start', { taskId: 't1', title: 'odd ids' });
      s.add('agent:spawned', { agentId: id, name: `agent ${id}` });
      s.add('agent:progress', { agentId: id, activity: 'thinking' });
      s.add('tool:executing', { callId: id, tool: 'search', agentId: id });
      s.add('tool:complete', { callId: id, result: 1, durationMs: 5 });
      s.add('message:start', { messageId: id, role: 'assistant' });
      s.add('message:delta', { messageId: id, delta: 'hi' });
      s.add('message:end', { messageId: id });
      s.add('question:asked', { questionId: id, prompt: 'ok?' });
      s.add('question:answered', { questionId: id, answer: 'yes' });
      const state = fold(s.events);
      assert.deepEqual(state.agentOrder, [id], id);
      assert.deepEqual(state.toolOrder, [id], id);
      assert.deepEqual(state.messageOrder, [id], id);
      const own = <T>(record: Record<string, T>) => (Object.hasOwn(record, id) ? record[id] : undefined);
      assert.equal(own(state.agents)?.name, `agent ${id}`, id);
      assert.equal(own(state.agents)?.activity, 'calling search', id);
      assert.equal(own(state.tools)?.status, 'completed', id);
      assert.deepEqual(own(state.messages), {
        messageId: id,
        role: 'assistant',
        text: 'hi',
        done: true,
      });
      assert.equal(own(state.questions)?.status, 'answered', id);
      assert.deepEqual(JSON.parse(JSON.stringify(state)), state, 'survives the snapshot round-trip');
    }
  });

  it('ignores deltas, ends and answers for ids it never saw, creating nothing', () => {
    for (const id of ['unknown', 'constructor', 'toString']) {
      const s = stream();
      s.add('task:start', { taskId: 't1', title: 'strays' });
      s.add('message:delta', { messageId: id, delta: 'x' });
      s.add('message:end', { messageId: id });
      s.add('question:answered', { questionId: id, answer: 'yes' });
      const state = fold(s.events);
      assert.deepEqual(state.messages, {}, id);
      assert.deepEqual(state.messageOrder, [], id);
      assert.deepEqual(state.questions, {}, id);
    }
  });
});
