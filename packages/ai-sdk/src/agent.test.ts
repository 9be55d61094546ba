import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { wire } from '@agentwire/ai-sdk';
import { reduceTaskEvents } from '@agentwire/protocol';
import type { Gateway } from '@agentwire/server';
import { jsonSchema, tool, ToolLoopAgent, type Agent } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { answer, finish, startGateway, step, stored, text, toolCall, Watcher } from './testing/support.js';

const deploy = tool({
  description: 'Deploys a service',
  inputSchema: jsonSchema<{ service: string }>({
    type: 'object',
    properties: { service: { type: 'string' } },
    required: ['service'],
  }),
  execute: async ({ service }) => ({ service, version: '1.4.2' }),
});

describe('a ToolLoopAgent through a real gateway', () => {
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

  it("generate(): an approval the agent's loop stops for is asked, and the run resumes with the answer", async () => {
    const model = new MockLanguageModelV4({
      doGenerate: [
        answer(
          [{ type: 'tool-call', toolCallId: 'dep-1', toolName: 'deploy', input: '{"service":"api"}' }],
          'tool-calls',
        ),
        answer([{ type: 'text', text: 'api 1.4.2 is live.' }]),
      ],
    });
    const deployer = new ToolLoopAgent({
      id: 'deployer',
      model,
      instructions: 'You deploy services.',
      tools: { deploy },
      toolApproval: { deploy: 'user-approval' },
    });
    const watcher = await Watcher.open(gateway.url, 'task:agent-generate');
    const pending = wire(aw, { task: { taskId: 'agent-generate' } })
      .agent(deployer)
      .generate({ prompt: 'Deploy api' });

    const asked = await watcher.next('question:asked');
    assert.equal(asked.data.prompt, 'Allow deploy {"service":"api"}?');
    await watcher.sub.answer(asked.data.questionId, 'approve');
    const result = await pending;
    assert.equal(result.text, 'api 1.4.2 is live.');
    assert.equal(model.doGenerateCalls.length, 2);
    const resumed = model.doGenerateCalls[1]!.prompt;
    const toolResult = resumed.find((m) => m.role === 'tool');
    assert.deepEqual(
      toolResult?.role === 'tool' &&
        toolResult.content[0]?.type === 'tool-result' &&
        toolResult.content[0].output,
      { type: 'json', value: { service: 'api', version: '1.4.2' } },
      'the approved call ran and its result went to the model',
    );

    await watcher.next('task:complete');
    const events = await stored(gateway, 'task:agent-generate');
    const state = reduceTaskEvents(events)!;
    assert.equal(state.title, 'Deploy api');
    assert.equal(state.status, 'completed');
    assert.equal(state.agents[state.agentOrder[0]!]!.name, 'deployer');
    assert.equal(state.tools['dep-1']!.status, 'completed');
    assert.equal(state.summary, 'api 1.4.2 is live.');
    assert.deepEqual(state.result, {
      finishReason: 'stop',
      steps: 2,
      usage: { inputTokens: 20, outputTokens: 10, totalTokens: 30, reasoningTokens: 0, cachedInputTokens: 0 },
    });
    const progress = events.flatMap((e) => (e.type === 'agent:progress' ? [e.data.activity] : []));
    assert.deepEqual(progress, ['step 1', 'step 2'], 'steps count on across the resumed call');
    await watcher.close();
  });

  it('stream(): with a task as the target the agent streams into it; approvals stay with the stream', async () => {
    const task = await aw.startTask({ title: 'Release' });
    const watcher = await Watcher.open(gateway.url, task.stream);
    const releaser = new ToolLoopAgent({
      id: 'releaser',
      model: new MockLanguageModelV4({
        doStream: [
          step(
            text('t1', 'Deploying ', 'web.'),
            toolCall('dep-web', 'deploy', { service: 'web' }),
            finish('tool-calls'),
          ),
          step(text('t2', 'web is ', 'live.'), finish('stop')),
          step(toolCall('dep-db', 'deploy', { service: 'db' }), finish('tool-calls')),
        ],
      }),
      tools: { deploy },
      toolApproval: ({ toolCall: call }) =>
        (call.input as { service: string }).service === 'db' ? 'user-approval' : undefined,
    });
    // Still the SDK's Agent, so it goes wherever one does (createAgentUIStreamResponse …).
    const agent: Agent<never, { deploy: typeof deploy }> = wire(task).agent(releaser);
    const first = await agent.stream({ prompt: 'Release web' });
    let streamed = '';
    for await (const delta of first.textStream) streamed += delta;
    assert.equal(streamed, 'Deploying web.web is live.');

    const second = await agent.stream({ prompt: 'Release db' });
    await second.consumeStream();
    const request = (await second.content).find((p) => p.type === 'tool-approval-request');
    assert.ok(request, "the SDK hands the approval to the stream's consumer");

    await task.complete();
    await watcher.next('task:complete');
    const events = await stored(gateway, task.stream);
    const state = reduceTaskEvents(events)!;
    assert.deepEqual(
      state.agentOrder.map((id) => [state.agents[id]!.name, state.agents[id]!.status]),
      [
        ['releaser', 'completed'],
        ['releaser', 'completed'],
      ],
    );
    assert.deepEqual(
      state.messageOrder.map((id) => state.messages[id]!.text),
      ['Deploying web.', 'web is live.'],
    );
    assert.equal(state.tools['dep-web']!.status, 'completed');
    assert.equal(state.tools['dep-db'], undefined, 'the call waiting for approval never ran');
    assert.ok(
      state.logs.some(
        (l) => l.level === 'warn' && l.message === 'deploy waits for approval from the caller.',
      ),
    );
    assert.ok(!events.some((e) => e.type === 'question:asked'));
    await watcher.close();
  });
});
