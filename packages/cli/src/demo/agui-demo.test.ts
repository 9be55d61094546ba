import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HttpAgent, type BaseEvent } from '@ag-ui/client';
import { EventSchema } from '@ag-ui/core/schemas';
import { connect, type Producer } from '@agentwire/agent';
import { reduceTaskEvents, taskStream } from '@agentwire/protocol';
import { createGateway, type Gateway } from '@agentwire/server';
import { waitFor } from '../testing/index.js';
import { DEMO_KINDS, startDemoWorker, type DemoWorker } from './index.js';

/**
 * `@ag-ui/client`'s HttpAgent, unchanged, against the gateway `npm start` runs: a new thread starts
 * a demo swarm (kind `agent`), the client follows it to the end with every event valid under
 * `@ag-ui/core`'s schema, and a cancel stops the swarm and ends the run as an error.
 */
describe('AG-UI clients against the demo workload', () => {
  let gw: Gateway;
  let aw: Producer;
  let demo: DemoWorker;
  before(async () => {
    gw = await createGateway({ port: 0, engine: { kind: 'memory' }, logLevel: 'silent' });
    aw = connect({ publisher: gw });
    demo = startDemoWorker(aw, { speed: 20 });
    await waitFor(
      () => gw.producers.workers().some((w) => w.kinds.length === DEMO_KINDS.length),
      'the demo worker to register',
    );
  });
  after(async () => {
    await demo.stop();
    await aw.close();
    await gw.close();
  });

  function newAgent(prompt: string): HttpAgent {
    const agent = new HttpAgent({ url: `${gw.url}/v1/agui`, threadId: randomUUID() });
    agent.addMessage({ id: randomUUID(), role: 'user', content: prompt });
    return agent;
  }

  async function run(agent: HttpAgent, events: BaseEvent[], params = {}) {
    return agent.runAgent(params, {
      onEvent: ({ event }) => {
        const parsed = EventSchema.safeParse(event);
        assert.ok(parsed.success, `${event.type} fails @ag-ui/core's schema`);
        events.push(event);
      },
    });
  }

  it('a new thread runs a demo swarm on the prompt, followed to RUN_FINISHED', async () => {
    const agent = newAgent('Which vector database fits a small team?');
    const events: BaseEvent[] = [];
    await run(agent, events);
    const types: string[] = events.map((e) => e.type);
    assert.equal(types[0], 'RUN_STARTED');
    assert.equal(types.at(-1), 'RUN_FINISHED');
    assert.ok(types.includes('TEXT_MESSAGE_CONTENT'), 'token deltas streamed');
    assert.ok(types.includes('TOOL_CALL_START'), "the researchers' tool calls");

    const { events: history } = await gw.engine.read(taskStream(agent.threadId), 0, 10_000);
    const state = reduceTaskEvents(history);
    assert.equal(state?.status, 'completed');
    // What the client holds is the task's messages, text for text.
    const fromTask = Object.values(state!.messages).map((m) => m.text);
    const fromClient = agent.messages
      .filter((m) => m.role === 'assistant' && typeof m.content === 'string' && m.content !== '')
      .map((m) => m.content as string);
    assert.deepEqual(fromClient, fromTask);
  });

  it('a cancel stops the swarm and the run ends RUN_ERROR cancelled, never RUN_FINISHED', async () => {
    const agent = newAgent('Compare three message brokers');
    const events: BaseEvent[] = [];
    const running = run(agent, events);
    await waitFor(
      () => events.some((e) => (e.type as string) === 'TEXT_MESSAGE_CONTENT'),
      'the swarm to stream',
    );
    const res = await fetch(`${gw.url}/v1/agui/threads/${agent.threadId}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'enough' }),
    });
    assert.equal(res.status, 200);
    await running;
    const last = events.at(-1) as BaseEvent & { code?: string };
    assert.equal(last.type as string, 'RUN_ERROR');
    assert.equal(last.code, 'cancelled');
    assert.ok(!events.some((e) => (e.type as string) === 'RUN_FINISHED'));
    await aw.flush();
    const { events: history } = await gw.engine.read(taskStream(agent.threadId), 0, 10_000);
    assert.equal(history.at(-1)?.type, 'task:cancelled', 'the swarm published nothing after the cancel');
  });
});
