import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { wire } from '@agentwire/ai-sdk';
import { reduceTaskEvents } from '@agentwire/protocol';
import type { Gateway } from '@agentwire/server';
import { isStepCount, jsonSchema, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { answer, startGateway, stored, Watcher } from './testing/support.js';

const schema = jsonSchema<{ path: string }>({
  type: 'object',
  properties: { path: { type: 'string' } },
  required: ['path'],
});

describe('generateText through a real gateway', () => {
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

  it('with a task as the target, each call is an agent in it; the task stays with its owner', async () => {
    const task = await aw.startTask({ taskId: 'two-agents', title: 'Plan and write' });
    const watcher = await Watcher.open(gateway.url, task.stream);
    const ai = wire(task, { agent: { name: 'writer', role: 'writes' } });
    const first = await ai.generateText({
      model: new MockLanguageModelV4({
        modelId: 'mock-1',
        doGenerate: [
          answer(
            [
              { type: 'reasoning', text: 'Need the outline first.' },
              { type: 'text', text: 'Reading the outline.' },
              { type: 'tool-call', toolCallId: 'read-1', toolName: 'read', input: '{"path":"outline.md"}' },
            ],
            'tool-calls',
            20,
            8,
          ),
          answer([{ type: 'text', text: 'Draft written.' }], 'stop', 40, 12),
        ],
      }),
      prompt: 'Write the draft',
      tools: { read: tool({ inputSchema: schema, execute: async ({ path }) => `# ${path}` }) },
      stopWhen: isStepCount(4),
    });
    assert.equal(first.text, 'Draft written.');
    const second = await ai.generateText({
      model: new MockLanguageModelV4({ doGenerate: [answer([{ type: 'text', text: 'Looks good.' }])] }),
      prompt: 'Review the draft',
    });
    assert.equal(second.text, 'Looks good.');

    await task.complete({ ok: true });
    await watcher.next('task:complete');
    const events = await stored(gateway, task.stream);
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'task:start',
        'agent:spawned',
        'agent:progress',
        'tool:executing',
        'tool:complete',
        'log:entry', // reasoning
        'message:start',
        'message:delta',
        'message:end',
        'log:entry', // step 1
        'agent:progress',
        'message:start',
        'message:delta',
        'message:end',
        'log:entry', // step 2
        'custom:event',
        'agent:complete',
        'agent:spawned',
        'agent:progress',
        'message:start',
        'message:delta',
        'message:end',
        'log:entry',
        'custom:event',
        'agent:complete',
        'task:complete',
      ],
      'a call that does not stream publishes each step once it ends, its tools first',
    );
    const state = reduceTaskEvents(events)!;
    assert.deepEqual(
      state.agentOrder.map((id) => [
        state.agents[id]!.name,
        state.agents[id]!.role,
        state.agents[id]!.status,
      ]),
      [
        ['writer', 'writes', 'completed'],
        ['writer', 'writes', 'completed'],
      ],
    );
    assert.equal(state.agents[state.agentOrder[0]!]!.model, 'mock-1');
    assert.deepEqual(
      state.messageOrder.map((id) => state.messages[id]!.text),
      ['Reading the outline.', 'Draft written.', 'Looks good.'],
    );
    assert.deepEqual(state.tools['read-1']!.result, '# outline.md');
    assert.deepEqual(state.result, { ok: true }, 'the run did not end the task it was given');
    await watcher.close();
  });

  it('a denied approval never runs the tool; the model is told it was denied', async () => {
    const watcher = await Watcher.open(gateway.url, 'task:deny');
    let ran = false;
    const model = new MockLanguageModelV4({
      doGenerate: [
        answer(
          [{ type: 'tool-call', toolCallId: 'rm-1', toolName: 'remove', input: '{"path":"/etc"}' }],
          'tool-calls',
        ),
        answer([{ type: 'text', text: 'Understood, nothing removed.' }]),
      ],
    });
    const pending = wire(aw, { task: { taskId: 'deny' } }).generateText({
      model,
      prompt: 'Clean up /etc',
      tools: {
        remove: tool({
          inputSchema: schema,
          needsApproval: async ({ path }) => path.startsWith('/'),
          execute: async () => {
            ran = true;
            return 'removed';
          },
        }),
      },
      stopWhen: isStepCount(3),
    });
    const asked = await watcher.next('question:asked');
    assert.equal(asked.data.prompt, 'Allow remove {"path":"/etc"}?');
    await watcher.sub.answer(asked.data.questionId, 'deny');
    const result = await pending;
    assert.equal(result.text, 'Understood, nothing removed.');
    assert.equal(ran, false);
    const toolMessage = model.doGenerateCalls[1]!.prompt.find((m) => m.role === 'tool');
    const output = toolMessage?.role === 'tool' ? toolMessage.content[0] : undefined;
    assert.equal(output?.type === 'tool-result' && output.output.type, 'execution-denied');

    await watcher.next('task:complete');
    const types = (await stored(gateway, 'task:deny')).map((e) => e.type);
    assert.ok(types.includes('question:answered'));
    assert.ok(!types.includes('tool:executing'), 'a denied call never starts');
    await watcher.close();
  });

  it("an approval already given in the messages (the SDK's own continuation) is not asked again", async () => {
    let ran = 0;
    const result = await wire(aw, { task: { taskId: 'replayed' } }).generateText({
      model: new MockLanguageModelV4({ doGenerate: [answer([{ type: 'text', text: 'Removed /tmp.' }])] }),
      messages: [
        { role: 'user', content: 'Clean up /tmp' },
        {
          role: 'assistant',
          content: [
            { type: 'tool-call', toolCallId: 'rm-2', toolName: 'remove', input: { path: '/tmp' } },
            { type: 'tool-approval-request', approvalId: 'ap-1', toolCallId: 'rm-2' },
          ],
        },
        {
          role: 'tool',
          content: [
            { type: 'tool-approval-response', approvalId: 'ap-1', approved: true, reason: 'From the UI.' },
          ],
        },
      ],
      tools: {
        remove: tool({ inputSchema: schema, needsApproval: true, execute: async () => (ran++, 'removed') }),
      },
      stopWhen: isStepCount(3),
    });
    assert.equal(result.text, 'Removed /tmp.');
    assert.equal(ran, 1);
    const events = await stored(gateway, 'task:replayed');
    assert.ok(!events.some((e) => e.type === 'question:asked'));
    const state = reduceTaskEvents(events)!;
    assert.equal(state.title, 'Clean up /tmp');
    assert.equal(state.tools['rm-2']!.status, 'completed');
  });

  it('an approval nobody answers in time is denied', async () => {
    const result = await wire(aw, { task: { taskId: 'unanswered' }, approvalTimeout: 50 }).generateText({
      model: new MockLanguageModelV4({
        doGenerate: [
          answer(
            [{ type: 'tool-call', toolCallId: 'w-1', toolName: 'write', input: '{"path":"a"}' }],
            'tool-calls',
          ),
          answer([{ type: 'text', text: 'Skipped.' }]),
        ],
      }),
      prompt: 'Write a',
      tools: { write: tool({ inputSchema: schema, execute: async () => 'written' }) },
      toolApproval: () => 'user-approval',
      stopWhen: isStepCount(3),
    });
    const response = result.steps[0]!.content.find((p) => p.type === 'tool-approval-response');
    assert.deepEqual(response?.type === 'tool-approval-response' && [response.approved, response.reason], [
      false,
      'No answer within 50 ms.',
    ]);
    const events = await stored(gateway, 'task:unanswered');
    const answered = events.find((e) => e.type === 'question:answered');
    assert.equal(answered?.type === 'question:answered' && answered.data.timedOut, true);
  });

  it("a watcher's cancel while a question is open aborts the call; nothing follows task:cancelled", async () => {
    const watcher = await Watcher.open(gateway.url, 'task:cancel-asking');
    const pending = wire(aw, { task: { taskId: 'cancel-asking' } }).generateText({
      model: new MockLanguageModelV4({
        doGenerate: [
          answer(
            [{ type: 'tool-call', toolCallId: 'd-1', toolName: 'deploy', input: '{"path":"prod"}' }],
            'tool-calls',
          ),
        ],
      }),
      prompt: 'Deploy',
      tools: { deploy: tool({ inputSchema: schema, needsApproval: true, execute: async () => 'deployed' }) },
      stopWhen: isStepCount(3),
    });
    const outcome = pending.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await watcher.next('question:asked');
    await watcher.sub.cancel({ reason: 'not today' });
    const err = await outcome;
    assert.ok(err instanceof DOMException && err.name === 'AbortError', String(err));
    assert.match(err.message, /not today/);
    await aw.flush();
    const events = await stored(gateway, 'task:cancel-asking');
    assert.equal(events.at(-1)!.type, 'task:cancelled');
    assert.deepEqual(reduceTaskEvents(events)!.status, 'cancelled');
    await watcher.close();
  });

  it("with a task's own agent, the run publishes as it and ends nothing; a failure is logged and thrown", async () => {
    const task = await aw.startTask({ title: 'Own agent' });
    const agent = await task.spawnAgent({ name: 'mine' });
    await assert.rejects(
      wire(task, { agent }).generateText({
        model: new MockLanguageModelV4({
          doGenerate: async () => {
            throw new Error('model unavailable');
          },
        }),
        prompt: 'Hi',
        maxRetries: 0,
      }),
      { message: 'model unavailable' },
    );
    await aw.flush();
    const events = await stored(gateway, task.stream);
    assert.deepEqual(
      events.map((e) => e.type),
      ['task:start', 'agent:spawned', 'agent:progress', 'log:entry'],
    );
    const line = events.at(-1)!;
    assert.deepEqual(line.type === 'log:entry' && [line.data.level, line.data.message, line.data.agentId], [
      'error',
      'model unavailable',
      agent.id,
    ]);
    const state = reduceTaskEvents(events)!;
    assert.equal(state.status, 'running');
    assert.equal(state.agents[agent.id]!.status, 'running');
  });

  it('a tool result too large for an event is shown as a note with a preview, and the call completes', async () => {
    const page = 'lorem ipsum '.repeat(40_000);
    await wire(aw, { task: { taskId: 'big-result' } }).generateText({
      model: new MockLanguageModelV4({
        doGenerate: [
          answer(
            [{ type: 'tool-call', toolCallId: 'f-1', toolName: 'fetch', input: '{"path":"/big"}' }],
            'tool-calls',
          ),
          answer([{ type: 'text', text: 'It is long.' }]),
        ],
      }),
      prompt: 'Fetch /big',
      tools: { fetch: tool({ inputSchema: schema, execute: async () => page }) },
      stopWhen: isStepCount(3),
    });
    const call = reduceTaskEvents(await stored(gateway, 'task:big-result'))!.tools['f-1']!;
    assert.equal(call.status, 'completed');
    const result = call.result as { omitted: string; chars: number; preview: string };
    assert.equal(result.omitted, 'too large');
    assert.equal(result.chars, JSON.stringify(page).length);
    assert.equal(result.preview.length, 2_000);
  });

  it("the SDK's own timeout fails the task with reason timeout", async () => {
    const model = new MockLanguageModelV4({
      doGenerate: ({ abortSignal }) =>
        new Promise((_resolve, reject) =>
          abortSignal?.addEventListener('abort', () => reject(abortSignal.reason)),
        ),
    });
    await assert.rejects(
      wire(aw, { task: { taskId: 'sdk-timeout' } }).generateText({
        model,
        prompt: 'Slow',
        timeout: 50,
        maxRetries: 0,
      }),
      { name: 'TimeoutError' },
    );
    const last = (await stored(gateway, 'task:sdk-timeout')).at(-1)!;
    assert.deepEqual(last.type === 'task:failed' && last.data.reason, 'timeout');
  });

  it('runs leave no listener on a signal or an agent that outlives them', async () => {
    const task = await aw.startTask({ title: 'Long-lived' });
    const agent = await task.spawnAgent({ name: 'worker' });
    const shutdown = new AbortController();
    const ai = wire(task, { agent });
    for (let i = 0; i < 3; i++) {
      await ai.generateText({
        model: new MockLanguageModelV4({ doGenerate: [answer([{ type: 'text', text: `answer ${i}` }])] }),
        prompt: `question ${i}`,
        abortSignal: shutdown.signal,
      });
    }
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, 0);
    assert.equal(getEventListeners(agent.signal, 'abort').length, 0);
    await task.complete();
  });

  it('wire() refuses what it cannot run', () => {
    assert.throws(() => wire({} as never), TypeError);
    assert.throws(() => wire(aw, { approvalTimeout: 0 }), RangeError);
  });
});
