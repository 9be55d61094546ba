import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, type Publisher, type PublishResult } from '@agentwire/agent';
import { parseEventInput, reduceTaskEvents, type AnyEnvelope, type AnyEventInput } from '@agentwire/protocol';
import { waitFor } from '../testing/index.js';
import { startDemoWorkload } from './index.js';

/** The smallest real log: validates every event like the gateway would, assigns seqs, keeps them. */
class StoringPublisher implements Publisher {
  readonly envelopes: AnyEnvelope[] = [];
  readonly invalid: { stream: string; event: unknown; error: string }[] = [];
  private readonly heads = new Map<string, number>();

  async publish(stream: string, events: AnyEventInput[]): Promise<PublishResult> {
    const results = events.map((event) => {
      try {
        parseEventInput(event);
      } catch (err) {
        this.invalid.push({ stream, event, error: (err as Error).message });
      }
      const seq = (this.heads.get(stream) ?? 0) + 1;
      this.heads.set(stream, seq);
      this.envelopes.push({
        stream,
        seq,
        epoch: 'e',
        id: event.id!,
        time: Date.now(),
        type: event.type,
        data: event.data,
      } as AnyEnvelope);
      return { id: event.id!, seq, duplicate: false };
    });
    return { stream, epoch: 'e', results };
  }

  byStream(): Map<string, AnyEnvelope[]> {
    const out = new Map<string, AnyEnvelope[]>();
    for (const e of this.envelopes) out.set(e.stream, [...(out.get(e.stream) ?? []), e]);
    return out;
  }
}

test('the demo swarm produces complete, valid, realistic tasks and stops cleanly', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const store = new StoringPublisher();
  const aw = connect({ publisher: store });
  const lines: string[] = [];
  const demo = startDemoWorkload(aw, { concurrency: 4, speed: 25, logger: (m) => lines.push(m) });
  // Run until the workload has shown what the assertions look for, not for a fixed time: a loaded
  // machine only makes this slower.
  const statuses = () => [...store.byStream().values()].map((events) => reduceTaskEvents(events)!.status);
  try {
    await waitFor(
      () => {
        const now = statuses();
        return now.filter((x) => x === 'completed').length >= 4 && now.includes('failed');
      },
      'four completed tasks and a failed one',
      90_000,
      100,
    );
  } catch (err) {
    await demo.stop();
    throw err;
  }
  const stopping = Date.now();
  await demo.stop();
  const stopMs = Date.now() - stopping;
  console.log(`demo.stop() took ${stopMs} ms`);
  await aw.close();
  process.off('unhandledRejection', onUnhandled);

  assert.deepEqual(store.invalid, [], 'every event passed parseEventInput');
  assert.deepEqual(unhandled, []);

  const states = [...store.byStream().values()].map((events) => ({
    events,
    state: reduceTaskEvents(events)!,
  }));
  assert.ok(
    states.every((s) => ['completed', 'failed', 'cancelled'].includes(s.state.status)),
    `every task ended: ${states.map((s) => s.state.status).join(', ')}`,
  );
  const completed = states.filter((s) => s.state.status === 'completed');
  assert.ok(completed.length >= 4, `${completed.length} tasks completed`);
  assert.ok(
    states.some((s) => s.state.status === 'failed'),
    'some task failed',
  );
  assert.ok(
    states.some((s) => s.state.status === 'cancelled'),
    'stop() cancelled the tasks in flight',
  );
  assert.ok(new Set(states.map((s) => s.state.projectId)).size >= 2, 'tasks span projects');

  for (const { events, state } of completed) {
    const agents = state.agentOrder.map((id) => state.agents[id]!);
    const planner = agents.find((a) => a.name === 'planner')!;
    const researchers = agents.filter((a) => a.name.startsWith('researcher-'));
    const synthesizer = agents.find((a) => a.name === 'synthesizer')!;
    assert.ok(researchers.length >= 2 && researchers.length <= 4, `${researchers.length} researchers`);
    assert.ok(researchers.every((r) => r.parentId === planner.id && r.model));
    assert.equal(synthesizer.parentId, planner.id);
    assert.ok(agents.every((a) => a.status === 'completed'));
    assert.deepEqual(state.stages, ['planning', 'research', 'synthesis']);
    assert.equal(state.stage, 'synthesis');
    assert.equal(state.progress?.percent, 100);

    const tools = state.toolOrder.map((id) => state.tools[id]!);
    assert.ok(tools.length >= researchers.length * 3, `${tools.length} tool calls`);
    assert.ok(
      tools.every((t) => t.status !== 'running' && typeof t.durationMs === 'number' && t.durationMs >= 0),
    );
    assert.ok(state.memoriesRecalled > 0);

    const messages = state.messageOrder.map((id) => state.messages[id]!);
    const answer = messages.find((m) => m.agentId === synthesizer.id)!;
    assert.ok(answer.done && answer.text.length > 100, 'the synthesizer streamed an answer');
    assert.deepEqual(state.result && (state.result as { answer: string }).answer, answer.text);
    const deltas = events.filter((e) => e.type === 'message:delta' && e.data.messageId === answer.messageId);
    assert.ok(deltas.length > 20, `answer came in ${deltas.length} deltas`);
    assert.ok(
      messages.filter((m) => researchers.some((r) => r.id === m.agentId)).every((m) => m.done && m.text),
    );

    const handoff = events.find((e) => e.type === 'agent:handoff');
    assert.ok(
      handoff?.type === 'agent:handoff' &&
        handoff.data.from === planner.id &&
        handoff.data.to === synthesizer.id,
    );
    assert.ok(new Set(events.filter((e) => e.type === 'log:entry').map((e) => e.data.level)).size >= 2);
    assert.ok(state.logs.some((l) => l.fields && Object.keys(l.fields).length > 0));
  }

  const all = states.flatMap((s) => s.events);
  const retried = all.filter((e) => e.type === 'tool:executing' && e.data.attempt === 2);
  assert.ok(retried.length > 0, 'some tool call was retried');
  assert.ok(all.some((e) => e.type === 'tool:failed' && e.data.retryable === true));
  const failedTask = states.find((s) => s.state.status === 'failed')!.state;
  assert.ok(Object.values(failedTask.agents).some((a) => a.status === 'failed' && a.error?.message));
  const questions = states.flatMap((s) => Object.values(s.state.questions));
  assert.ok(questions.length > 0, 'some agent asked a question');
  assert.ok(
    questions
      .filter((q) => q.status !== 'open')
      .every((q) => q.status === 'timedout' && typeof q.answer === 'string'),
  );
  assert.ok(lines.some((l) => l.startsWith('✓')) && lines.at(-1) === 'demo: stopped');
});

test('stop() through the signal option, and before any task got far', async () => {
  const store = new StoringPublisher();
  const aw = connect({ publisher: store });
  const controller = new AbortController();
  const demo = startDemoWorkload(aw, { concurrency: 2, signal: controller.signal });
  await waitFor(() => store.byStream().size >= 1, 'a task to start');
  controller.abort();
  await demo.stop();
  await aw.close();
  const states = [...store.byStream().values()].map((events) => reduceTaskEvents(events)!);
  assert.ok(states.length >= 1);
  assert.ok(states.every((s) => s.status === 'cancelled'));
  assert.throws(() => startDemoWorkload(aw, { speed: 0 }), RangeError);
});
