import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent, InputGuardrailTripwireTriggered, Runner, Usage, tool } from '@openai/agents';
import {
  ScriptedModel,
  assistantMessage,
  functionCall,
  modelStream,
  modelStreamResponder,
} from '@openai/agents-core/testing';
import { reduceTaskEvents, type AnyEnvelope } from '@agentwire/protocol';
import { z } from 'zod';
import { runAgent, runTask } from './index.js';
import { history, nextEvent, setup } from './testing/support.js';

const counts = { requests: 1, inputTokens: 12, outputTokens: 5, totalTokens: 17 };
const usage = new Usage(counts);

/** A streamed answer in several text deltas, as a real model sends it. */
function streamedAnswer(...parts: string[]) {
  return modelStream([
    { type: 'response_started' },
    ...parts.map((delta) => ({ type: 'output_text_delta' as const, delta })),
    {
      type: 'response_done' as const,
      response: { id: `resp_${parts.length}`, usage: counts, output: [assistantMessage(parts.join(''))] },
    },
  ]);
}

function types(events: AnyEnvelope[]): string[] {
  return events.map((e) => e.type);
}

/** The payload of the first `custom:event` named `name`. */
function custom(events: AnyEnvelope[], name: string): unknown {
  for (const e of events) if (e.type === 'custom:event' && e.data.name === name) return e.data.payload;
  return undefined;
}

async function newestTaskStream(url: string): Promise<string> {
  const body = (await (await fetch(`${url}/v1/tasks?limit=1`)).json()) as { tasks: { stream: string }[] };
  return body.tasks[0]!.stream;
}

test('a run with a tool call and a handoff becomes a task with two agents, their tools and token streams', async () => {
  const { gateway, producer } = await setup();
  const lookup = tool({
    name: 'lookup_invoice',
    description: 'Finds an invoice',
    parameters: z.object({ id: z.string() }),
    execute: async ({ id }) => ({ id, amount: 42 }),
  });
  const billingModel = new ScriptedModel([streamedAnswer('Your invoice ', 'INV-7 is ', '42 EUR.')]);
  const billing = new Agent({
    name: 'billing',
    handoffDescription: 'answers invoice questions',
    instructions: 'Answer billing questions.',
    model: billingModel,
  });
  const triageModel = new ScriptedModel([
    { output: [functionCall('lookup_invoice', { id: 'INV-7' }, { callId: 'call_lookup_1' })], usage },
    { output: [functionCall('transfer_to_billing', {}, { callId: 'call_handoff_1' })], usage },
  ]);
  const triage = Agent.create({
    name: 'triage',
    instructions: 'Route the user.',
    model: triageModel,
    tools: [lookup],
    handoffs: [billing],
  });

  const result = await runTask(producer, triage, 'Why is my invoice 42 EUR?', {
    task: { projectId: 'support' },
  });
  assert.equal(result.finalOutput, 'Your invoice INV-7 is 42 EUR.');
  const events = await history(gateway, await newestTaskStream(gateway.url));
  const state = reduceTaskEvents(events);
  assert.ok(state);
  assert.equal(state.status, 'completed');
  assert.equal(state.projectId, 'support');
  assert.deepEqual(state.result, 'Your invoice INV-7 is 42 EUR.');

  const agents = Object.values(state.agents);
  const triageAgent = agents.find((a) => a.name === 'triage');
  const billingAgent = agents.find((a) => a.name === 'billing');
  assert.ok(triageAgent && billingAgent, 'both agents were spawned');
  assert.equal(billingAgent.parentId, triageAgent.id, 'the agent handed off to is a child');
  assert.equal(billingAgent.role, 'answers invoice questions');
  assert.equal(billingAgent.model, 'ScriptedModel');
  assert.equal(triageAgent.status, 'completed');
  assert.equal(billingAgent.status, 'completed');

  const call = state.tools['call_lookup_1'];
  assert.ok(call, 'the tool call keeps the SDK call id');
  assert.equal(call.tool, 'lookup_invoice');
  assert.deepEqual(call.args, { id: 'INV-7' });
  assert.equal(call.status, 'completed');
  assert.equal(call.agentId, triageAgent.id);

  const handoff = events.find((e) => e.type === 'agent:handoff');
  assert.ok(handoff);
  assert.deepEqual(
    { from: handoff.data.from, to: handoff.data.to },
    { from: triageAgent.id, to: billingAgent.id },
  );

  const deltas = events.filter((e) => e.type === 'message:delta').map((e) => e.data.delta);
  assert.deepEqual(deltas, ['Your invoice ', 'INV-7 is ', '42 EUR.'], 'token by token');
  const message = Object.values(state.messages)[0];
  assert.equal(message?.text, 'Your invoice INV-7 is 42 EUR.');
  assert.equal(message?.agentId, billingAgent.id);

  assert.deepEqual(custom(events, 'usage'), {
    requests: 3,
    inputTokens: 36,
    outputTokens: 15,
    totalTokens: 51,
  });
  assert.equal(types(events).at(-1), 'task:complete');
});

test("a watcher's cancel aborts the run mid-stream and nothing is published after task:cancelled", async () => {
  const { gateway, producer, watcher } = await setup();
  let releaseAfterCancel!: () => void;
  const cancelled = new Promise<void>((resolve) => (releaseAfterCancel = resolve));
  let modelSawAbort = false;
  const model = new ScriptedModel([
    modelStreamResponder(async function* ({ request }) {
      yield { type: 'response_started' as const };
      yield { type: 'output_text_delta' as const, delta: 'Thinking about ' };
      yield { type: 'output_text_delta' as const, delta: 'it' };
      await cancelled;
      modelSawAbort = request.signal?.aborted === true;
      // A model that ignores the abort and keeps talking must still not reach the task.
      yield { type: 'output_text_delta' as const, delta: ' LEAKED' };
      yield {
        type: 'response_done' as const,
        response: { id: 'resp_late', usage: counts, output: [assistantMessage('Thinking about it LEAKED')] },
      };
    }),
  ]);
  const agent = new Agent({ name: 'slow', instructions: 'Think.', model });
  const task = await producer.startTask({ title: 'to be cancelled' });
  const sub = watcher.subscribe(task.stream);
  const sawDelta = nextEvent(sub, (e) => e.type === 'message:delta' && e.data.delta === 'it');
  await sub.ready; // so the deltas arrive as events, not folded into the first snapshot
  const run = runAgent(task, agent, 'go');
  try {
    await sawDelta;
    await sub.cancel({ reason: 'user pressed stop' });
  } finally {
    releaseAfterCancel();
  }
  await assert.rejects(run, (err: Error) => err.name === 'AbortError');
  assert.equal(modelSawAbort, true, 'the model call got the aborted signal');
  await producer.flush();

  const events = await history(gateway, task.stream);
  const at = types(events).indexOf('task:cancelled');
  assert.ok(at >= 0, 'the cancel was recorded');
  assert.deepEqual(types(events).slice(at + 1), [], 'no event after task:cancelled');
  assert.ok(!events.some((e) => e.type === 'message:delta' && e.data.delta.includes('LEAKED')));
});

test('a tool that needs approval asks the watchers; approved runs, refused fails', async () => {
  const { gateway, producer, watcher } = await setup();
  let ran = 0;
  const refund = tool({
    name: 'refund',
    description: 'Refunds an order',
    parameters: z.object({ order: z.string() }),
    needsApproval: true,
    execute: async ({ order }) => {
      ran++;
      return `refunded ${order}`;
    },
  });
  const model = new ScriptedModel([
    { output: [functionCall('refund', { order: 'A1' }, { callId: 'call_refund_a1' })], usage },
    { output: [functionCall('refund', { order: 'B2' }, { callId: 'call_refund_b2' })], usage },
    { output: [assistantMessage('Refunded A1; B2 was refused.')], usage },
  ]);
  const agent = new Agent({ name: 'support', instructions: 'Refund.', model, tools: [refund] });
  const task = await producer.startTask({ title: 'refunds' });
  const sub = watcher.subscribe(task.stream);
  await sub.ready;
  const answers = ['approve', 'reject'];
  sub.onEvent((e) => {
    if (e.type !== 'question:asked') return;
    assert.match(e.data.prompt, /support wants to call refund\(\{"order":"(A1|B2)"\}\)/);
    void sub.answer(e.data.questionId, answers.shift());
  });

  const result = await runAgent(task, agent, 'refund both');
  assert.equal(result.finalOutput, 'Refunded A1; B2 was refused.');
  assert.equal(ran, 1, 'only the approved call ran');
  await task.complete(result.finalOutput);

  const state = reduceTaskEvents(await history(gateway, task.stream));
  assert.ok(state);
  assert.equal(state.tools['call_refund_a1']?.status, 'completed');
  assert.equal(state.tools['call_refund_a1']?.result, 'refunded A1');
  assert.equal(state.tools['call_refund_b2']?.status, 'failed');
  const questions = Object.values(state.questions);
  assert.equal(questions.length, 2);
  assert.ok(questions.every((q) => q.status === 'answered'));
});

test('a tripped input guardrail is recorded and the task fails with the SDK error', async () => {
  const { gateway, producer } = await setup();
  const model = new ScriptedModel([{ output: [assistantMessage('never shown')], usage }]);
  const agent = new Agent({
    name: 'guarded',
    instructions: 'Help.',
    model,
    inputGuardrails: [
      {
        name: 'no_homework',
        runInParallel: false,
        execute: async () => ({ tripwireTriggered: true, outputInfo: { topic: 'homework' } }),
      },
    ],
  });
  const runner = new Runner({ tracingDisabled: true });
  await assert.rejects(
    runTask(producer, agent, 'do my homework', { runner }),
    (err) => err instanceof InputGuardrailTripwireTriggered,
  );
  const events = await history(gateway, await newestTaskStream(gateway.url));
  assert.deepEqual(custom(events, 'guardrail'), {
    kind: 'input',
    guardrail: 'no_homework',
    tripwireTriggered: true,
    info: { topic: 'homework' },
  });
  const state = reduceTaskEvents(events);
  assert.ok(state);
  assert.equal(state.status, 'failed');
  assert.match(state.error?.message ?? '', /guardrail/i);
  assert.ok(!events.some((e) => e.type === 'message:delta'), 'the guarded answer never streamed');
});
