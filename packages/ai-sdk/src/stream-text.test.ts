import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { wire } from '@agentwire/ai-sdk';
import { reduceTaskEvents } from '@agentwire/protocol';
import type { Gateway } from '@agentwire/server';
import { isStepCount, jsonSchema, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import {
  finish,
  ManualStream,
  reasoning,
  startGateway,
  step,
  stored,
  text,
  toolCall,
  Watcher,
} from './testing/support.js';

/** Tool execution options the tests do not use. */
const never = () => ({ toolCallId: 'x', messages: [], context: undefined }) as never;

const weather = tool({
  description: 'The weather in a city',
  inputSchema: jsonSchema<{ city: string }>({
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  }),
  execute: async ({ city }) => ({ city, sky: 'sunny', celsius: 21 }),
});

describe('streamText through a real gateway', () => {
  let gateway: Gateway;
  let aw: Producer;
  before(async () => {
    gateway = await startGateway();
    aw = connect({ url: gateway.url });
  });
  after(async () => {
    await aw.close();
    await gateway.close();
  });

  it('a run becomes a task: steps, token deltas, reasoning, the tool round trip, usage, completion', async () => {
    const watcher = await Watcher.open(gateway.url, 'task:full-run');
    const model = new MockLanguageModelV4({
      modelId: 'mock-weather-1',
      doStream: [
        step(
          reasoning('r1', 'The user wants ', 'the weather.'),
          text('t1', 'Let me ', 'check.'),
          toolCall('call-paris', 'weather', { city: 'Paris' }),
          finish('tool-calls', 12, 7),
        ),
        step(text('t2', 'Sunny ', 'in Paris, ', '21 °C.'), finish('stop', 30, 9)),
      ],
    });

    const result = wire(aw, { task: { taskId: 'full-run', kind: 'weather' } }).streamText({
      model,
      prompt: 'What is the weather in Paris?',
      tools: { weather },
      stopWhen: isStepCount(5),
    });
    let streamed = '';
    for await (const delta of result.textStream) streamed += delta;
    assert.equal(streamed, 'Let me check.Sunny in Paris, 21 °C.', 'the caller reads the stream as usual');

    await watcher.next('task:complete');
    const events = await stored(gateway, 'task:full-run');
    assert.deepEqual(
      watcher.events.map((e) => e.id),
      events.map((e) => e.id),
      'the watcher saw exactly what the log holds, in order',
    );
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'task:start',
        'agent:spawned',
        'agent:progress',
        'log:entry', // reasoning
        'message:start',
        'message:delta',
        'message:delta',
        'message:end',
        'tool:executing',
        'tool:complete',
        'log:entry', // step 1 usage
        'agent:progress',
        'message:start',
        'message:delta',
        'message:delta',
        'message:delta',
        'message:end',
        'log:entry', // step 2 usage
        'custom:event',
        'agent:complete',
        'task:complete',
      ],
    );

    const state = reduceTaskEvents(events)!;
    assert.equal(state.title, 'What is the weather in Paris?');
    assert.equal(state.kind, 'weather');
    assert.equal(state.status, 'completed');
    assert.equal(state.summary, 'Sunny in Paris, 21 °C.');
    const agent = state.agents[state.agentOrder[0]!]!;
    assert.deepEqual([agent.name, agent.model, agent.status], ['assistant', 'mock-weather-1', 'completed']);
    assert.deepEqual(
      state.messageOrder.map((id) => [state.messages[id]!.text, state.messages[id]!.done]),
      [
        ['Let me check.', true],
        ['Sunny in Paris, 21 °C.', true],
      ],
    );
    const call = state.tools['call-paris']!;
    assert.deepEqual(
      [call.tool, call.args, call.result, call.status, call.agentId],
      ['weather', { city: 'Paris' }, { city: 'Paris', sky: 'sunny', celsius: 21 }, 'completed', agent.id],
    );

    const reasoningLog = events.find((e) => e.type === 'log:entry' && e.data.fields?.kind === 'reasoning');
    assert.equal(
      reasoningLog?.type === 'log:entry' && reasoningLog.data.message,
      'The user wants the weather.',
    );
    const progress = events.flatMap((e) => (e.type === 'agent:progress' ? [e.data.activity] : []));
    assert.deepEqual(progress, ['step 1', 'step 2']);
    const usage = events.find((e) => e.type === 'custom:event');
    assert.deepEqual(usage?.data, {
      name: 'usage',
      payload: {
        agentId: agent.id,
        steps: 2,
        inputTokens: 42,
        outputTokens: 16,
        totalTokens: 58,
        reasoningTokens: 0,
        cachedInputTokens: 0,
      },
    });
    assert.deepEqual(state.result, {
      finishReason: 'stop',
      steps: 2,
      usage: { inputTokens: 42, outputTokens: 16, totalTokens: 58, reasoningTokens: 0, cachedInputTokens: 0 },
    });
    await watcher.close();
  });
  it("a watcher's cancel aborts the call mid-stream, and nothing follows task:cancelled", async () => {
    const watcher = await Watcher.open(gateway.url, 'task:cancel-mid');
    const model = new ManualStream();
    const result = wire(aw, { task: { taskId: 'cancel-mid' } }).streamText({
      model: new MockLanguageModelV4({ doStream: [model.result] }),
      prompt: 'Tell me a long story',
    });
    const reading = (async () => {
      let story = '';
      for await (const delta of result.textStream) story += delta;
      return story;
    })();
    model.push({ type: 'text-start', id: 't1' });
    model.push(
      { type: 'text-delta', id: 't1', delta: 'Once ' },
      { type: 'text-delta', id: 't1', delta: 'upon ' },
    );
    await watcher.next('message:delta', (e) => e.data.delta === 'upon ');

    const ack = await watcher.sub.cancel({ reason: 'enough' });
    assert.equal(typeof ack.seq, 'number');
    assert.equal(await reading, 'Once upon ', 'the text stream ends where the cancel cut it');
    await assert.rejects(Promise.resolve(result.finishReason), { name: 'AbortError' });
    assert.ok(model.cancelled, "the SDK cancelled the model's stream");
    assert.throws(
      () => model.push({ type: 'text-delta', id: 't1', delta: 'a time' }),
      'the stream is closed',
    );
    await aw.flush();

    const events = await stored(gateway, 'task:cancel-mid');
    assert.deepEqual(
      events.slice(-4).map((e) => e.type),
      ['message:delta', 'message:delta', 'message:end', 'task:cancelled'],
      'the open message is ended before the cancel is recorded, and nothing comes after it',
    );
    const state = reduceTaskEvents(events)!;
    assert.equal(state.status, 'cancelled');
    assert.equal(state.cancelReason, 'enough');
    assert.equal(state.messages[state.messageOrder[0]!]!.text, 'Once upon ');
    assert.equal(state.agents[state.agentOrder[0]!]!.status, 'cancelled');
    await watcher.close();
  });

  it("the caller's own abortSignal cancels the task it started, as the last event", async () => {
    const model = new ManualStream();
    const caller = new AbortController();
    const result = wire(aw, { task: { taskId: 'caller-abort' } }).streamText({
      model: new MockLanguageModelV4({ doStream: [model.result] }),
      prompt: 'Tell me a long story',
      abortSignal: caller.signal,
    });
    const watcher = await Watcher.open(gateway.url, 'task:caller-abort');
    model.push(text('t1', 'Once ', 'upon ').slice(0, 3));
    await watcher.next('message:delta', (e) => e.data.delta === 'upon ');
    caller.abort(new Error('the user closed the page'));
    await assert.rejects(Promise.resolve(result.finishReason), { message: 'the user closed the page' });
    await aw.flush();
    const events = await stored(gateway, 'task:caller-abort');
    assert.deepEqual(
      events.slice(-3).map((e) => e.type),
      ['message:delta', 'message:end', 'task:cancelled'],
    );
    assert.deepEqual(events.at(-1)!.data, { reason: 'the user closed the page' });
    await watcher.close();
  });
  it("a tool call that needs approval becomes a question; the watcher's answer lets it run in the same call", async () => {
    const watcher = await Watcher.open(gateway.url, 'task:approve');
    let ran = 0;
    const result = wire(aw, { task: { taskId: 'approve' } }).streamText({
      model: new MockLanguageModelV4({
        doStream: [
          step(toolCall('call-lyon', 'weather', { city: 'Lyon' }), finish('tool-calls')),
          step(text('t1', 'Sunny in Lyon.'), finish('stop')),
        ],
      }),
      prompt: 'Weather in Lyon?',
      tools: {
        weather: {
          ...weather,
          execute: async (input: { city: string }) => (ran++, weather.execute!(input, never())),
        },
      },
      toolApproval: { weather: { type: 'user-approval', reason: 'Weather calls cost money.' } },
      stopWhen: isStepCount(3),
    });
    const asked = await watcher.next('question:asked');
    assert.equal(asked.data.prompt, 'Allow weather {"city":"Lyon"}? Weather calls cost money.');
    assert.deepEqual(
      asked.data.options?.map((o) => o.value),
      ['approve', 'deny'],
    );
    assert.equal(ran, 0, 'the tool waits for the answer');
    assert.ok(!watcher.types().includes('tool:executing'));

    await watcher.sub.answer(asked.data.questionId, 'approve');
    assert.equal(await result.text, 'Sunny in Lyon.');
    assert.equal(ran, 1);
    const parts = (await result.steps)[0]!.content;
    const response = parts.find((p) => p.type === 'tool-approval-response');
    assert.equal(response?.type === 'tool-approval-response' && response.approved, true);

    await watcher.next('task:complete');
    const events = await stored(gateway, 'task:approve');
    const types = events.map((e) => e.type);
    assert.ok(types.indexOf('question:answered') < types.indexOf('tool:executing'));
    const state = reduceTaskEvents(events)!;
    assert.equal(state.questions[asked.data.questionId]!.answer, 'approve');
    assert.equal(state.questions[asked.data.questionId]!.agentId, state.agentOrder[0]);
    assert.equal(state.tools['call-lyon']!.status, 'completed');
    await watcher.close();
  });

  it('a tool that throws is a failed call with the same callId, and the run goes on', async () => {
    const watcher = await Watcher.open(gateway.url, 'task:tool-error');
    const result = wire(aw, { task: { taskId: 'tool-error' } }).streamText({
      model: new MockLanguageModelV4({
        doStream: [
          step(toolCall('call-atlantis', 'weather', { city: 'Atlantis' }), finish('tool-calls')),
          step(text('t1', 'No such city.'), finish('stop')),
        ],
      }),
      prompt: 'Weather in Atlantis?',
      tools: {
        weather: tool({
          inputSchema: jsonSchema<{ city: string }>({
            type: 'object',
            properties: { city: { type: 'string' } },
          }),
          execute: async ({ city }): Promise<string> => {
            throw Object.assign(new Error(`unknown city ${city}`), { code: 'ENOCITY' });
          },
        }),
      },
      stopWhen: isStepCount(3),
    });
    assert.equal(await result.text, 'No such city.');
    await watcher.next('task:complete');
    const events = await stored(gateway, 'task:tool-error');
    const calls = events.flatMap((e) =>
      e.type === 'tool:executing' || e.type === 'tool:failed' ? [[e.type, e.data.callId]] : [],
    );
    assert.deepEqual(calls, [
      ['tool:executing', 'call-atlantis'],
      ['tool:failed', 'call-atlantis'],
    ]);
    const failed = events.find((e) => e.type === 'tool:failed');
    assert.deepEqual(failed?.type === 'tool:failed' && failed.data.error, {
      message: 'unknown city Atlantis',
      code: 'ENOCITY',
    });
    assert.equal(reduceTaskEvents(events)!.status, 'completed');
    await watcher.close();
  });

  it("the model's error fails the agent and the task with it", async () => {
    const watcher = await Watcher.open(gateway.url, 'task:model-error');
    const result = wire(aw, { task: { taskId: 'model-error' } }).streamText({
      model: new MockLanguageModelV4({
        doStream: async () => {
          throw Object.assign(new Error('503 upstream overloaded'), { code: 'overloaded' });
        },
      }),
      prompt: 'Hello?',
      maxRetries: 0,
      onError: () => undefined, // the SDK would log it
    });
    await assert.rejects(Promise.resolve(result.text));
    const failed = await watcher.next('task:failed');
    assert.deepEqual(failed.data, {
      error: { message: '503 upstream overloaded', code: 'overloaded' },
      reason: 'error',
    });
    const events = await stored(gateway, 'task:model-error');
    assert.deepEqual(
      events.map((e) => e.type),
      ['task:start', 'agent:spawned', 'agent:progress', 'log:entry', 'agent:failed', 'task:failed'],
    );
    const warning = events[3]!;
    assert.equal(warning.type === 'log:entry' && warning.data.level, 'warn');
    await watcher.close();
  });
});
