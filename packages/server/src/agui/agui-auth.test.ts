import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it, mock } from 'node:test';
import { taskIdOf, taskStream } from '@agentwire/protocol';
import { HttpAgent, type BaseEvent } from '@ag-ui/client';
import { connect, type Producer } from '@agentwire/agent';
import type { Gateway } from '../gateway.js';
import { A, B, cast, secureGateway } from '../testing/auth-kit.js';
import { waitUntil } from '../testing/wait.js';

/** The AG-UI surface behind the gateway's auth: the same rules as every other transport. */
describe('AG-UI with auth', () => {
  let gw: Gateway;
  let producer: Producer;
  let tokens: Awaited<ReturnType<typeof cast>>;
  before(async () => {
    gw = await secureGateway();
    producer = connect({ publisher: gw });
    producer.handle('agent', async (task) => {
      const agent = await task.spawnAgent({ name: 'solo' });
      await agent.streamMessage(['done']);
      return 'ok';
    });
    tokens = await cast();
    // The client reports refused runs on the console; the assertions below check them.
    mock.method(console, 'error', () => undefined);
  });
  after(async () => {
    mock.restoreAll();
    await producer.close();
    await gw.close();
  });

  const agentFor = (token: string | undefined, threadId: string = randomUUID()) => {
    const agent = new HttpAgent({
      url: `${gw.url}/v1/agui`,
      threadId,
      ...(token !== undefined && { headers: { authorization: `Bearer ${token}` } }),
    });
    agent.addMessage({ id: randomUUID(), role: 'user', content: 'go' });
    return agent;
  };

  const runEvents = async (agent: HttpAgent, params: Parameters<HttpAgent['runAgent']>[0] = {}) => {
    const events: BaseEvent[] = [];
    await agent.runAgent(params, { onEvent: ({ event }) => void events.push(event) });
    return events;
  };

  it('refuses a caller without a credential with HTTP 401', async () => {
    await assert.rejects(agentFor(undefined).runAgent(), /HTTP 401/);
  });

  it("lets a viewer attach to its project's task and nobody else's", async () => {
    const mine = agentFor(tokens.viewerA, taskIdOf(A.task)!);
    const events: BaseEvent[] = [];
    const running = mine.runAgent({}, { onEvent: ({ event }) => void events.push(event) });
    await waitUntil(() => events.some((e) => e.type === 'STATE_SNAPSHOT'), 'the prelude');
    mine.abortRun();
    await running;
    assert.equal((mine.state as { title: string }).title, 'secret of alpha');

    await assert.rejects(agentFor(tokens.viewerA, taskIdOf(B.task)!).runAgent(), /HTTP 403/);
  });

  it('starts tasks only for operators, within their projects', async () => {
    const viewer = await runEvents(agentFor(tokens.viewerA));
    assert.deepEqual(
      viewer.map((e) => [e.type, (e as { code?: string }).code]),
      [['RUN_ERROR', 'forbidden']],
    );
    const outside = await runEvents(agentFor(tokens.operatorA));
    assert.equal((outside.at(-1) as { code?: string }).code, 'forbidden');

    const operator = agentFor(tokens.operatorA);
    const events = await runEvents(operator, { forwardedProps: { agentwire: { projectId: A.project } } });
    assert.equal(events.at(-1)?.type, 'RUN_FINISHED');
    const history = await gw.engine.read(taskStream(operator.threadId), 0, 100);
    const start = history.events[0];
    assert.equal(start?.type === 'task:start' && start.data.projectId, A.project);
  });
});
