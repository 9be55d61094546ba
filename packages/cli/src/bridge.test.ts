import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { HttpAgent, type BaseEvent } from '@ag-ui/client';
import { EventType, type RunAgentInput } from '@ag-ui/core';
import { EventSchema, RunAgentInputSchema } from '@ag-ui/core/schemas';
import { EventEncoder } from '@ag-ui/encoder';
import { taskIdOf, taskStream, type AnyEnvelope } from '@agentwire/protocol';
import { createGateway, type Gateway } from '@agentwire/server';
import { pace, waitFor } from './testing/index.js';

/**
 * `agentwire bridge agui <url>`, the real CLI process, between a gateway and an AG-UI agent server
 * built with `@ag-ui/encoder`: the agent's run becomes a task, its interrupt a question a watcher
 * answers, and a watcher's cancel an abort of the agent's request.
 */

const bin = fileURLToPath(new URL('./bin.js', import.meta.url));

/** The AG-UI agent: talks, calls a tool, asks for approval (an interrupt), and on resume finishes. */
class AgUiAgentServer {
  readonly inputs: RunAgentInput[] = [];
  /** Requests the agent saw its client abort. */
  aborted = 0;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const input = JSON.parse(body) as RunAgentInput;
        assert.ok(RunAgentInputSchema.safeParse(input).success);
        this.inputs.push(input);
        const encoder = new EventEncoder({ accept: req.headers.accept });
        res.writeHead(200, { 'content-type': encoder.getContentType() });
        res.once('close', () => {
          if (!res.writableEnded) this.aborted++;
        });
        void this.respond(input, (e) => res.write(encoder.encodeSSE(checked(e))), res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/agent`;
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  private async respond(
    input: RunAgentInput,
    send: (e: Record<string, unknown>) => void,
    res: ServerResponse,
  ) {
    const { threadId, runId } = input;
    const prompt = String(input.messages.at(-1)?.content ?? '');
    send({ type: EventType.RUN_STARTED, threadId, runId });
    if (prompt === 'forever') {
      send({ type: EventType.TEXT_MESSAGE_START, messageId: `m-${runId}`, role: 'assistant' });
      // Talks until its client goes away, which is how AG-UI stops an agent.
      for (let i = 0; !res.destroyed; i++) {
        send({ type: EventType.TEXT_MESSAGE_CONTENT, messageId: `m-${runId}`, delta: `w${i} ` });
        await pace(5);
      }
      return;
    }
    const answer = input.resume?.[0];
    if (!answer) {
      send({ type: EventType.TEXT_MESSAGE_START, messageId: 'm1', role: 'assistant' });
      send({ type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm1', delta: `Planning "${prompt}".` });
      send({ type: EventType.TEXT_MESSAGE_END, messageId: 'm1' });
      send({ type: EventType.TOOL_CALL_START, toolCallId: 'c1', toolCallName: 'lookup' });
      send({ type: EventType.TOOL_CALL_ARGS, toolCallId: 'c1', delta: '{"q":"x"}' });
      send({ type: EventType.TOOL_CALL_END, toolCallId: 'c1' });
      send({ type: EventType.TOOL_CALL_RESULT, messageId: 'r1', toolCallId: 'c1', content: 'found' });
      send({
        type: EventType.RUN_FINISHED,
        threadId,
        runId,
        outcome: {
          type: 'interrupt',
          interrupts: [
            {
              id: 'approve-1',
              reason: 'approval',
              message: 'Ship it?',
              responseSchema: { type: 'string', enum: ['ship', 'hold'] },
            },
          ],
        },
      });
    } else {
      send({ type: EventType.TEXT_MESSAGE_START, messageId: 'm2', role: 'assistant' });
      send({
        type: EventType.TEXT_MESSAGE_CONTENT,
        messageId: 'm2',
        delta: `Decision: ${String(answer.payload)}.`,
      });
      send({ type: EventType.TEXT_MESSAGE_END, messageId: 'm2' });
      send({ type: EventType.RUN_FINISHED, threadId, runId, result: { decision: answer.payload } });
    }
    res.end();
  }
}

function checked(e: Record<string, unknown>): BaseEvent {
  assert.ok(EventSchema.safeParse(e).success, `the test agent sends real AG-UI: ${String(e.type)}`);
  return e as BaseEvent;
}

function cli(
  args: string[],
  data: string,
): { child: ChildProcessWithoutNullStreams; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args, '--data', data], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

/** Resolves with the first committed event `match` accepts. */
function next(
  gw: Gateway,
  match: (stream: string, e: AnyEnvelope) => boolean,
): Promise<{ stream: string; event: AnyEnvelope }> {
  return new Promise((resolve) => {
    const off = gw.engine.onAppend((stream, events) => {
      const event = events.find((e) => match(stream, e));
      if (!event) return;
      off();
      resolve({ stream, event });
    });
  });
}

describe('agentwire bridge agui', () => {
  let gw: Gateway;
  let agent: AgUiAgentServer;
  let data: string;
  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent' });
    agent = new AgUiAgentServer();
    await agent.start();
    data = mkdtempSync(join(tmpdir(), 'agentwire-bridge-'));
  });
  after(async () => {
    agent.close();
    await gw.close();
    rmSync(data, { recursive: true, force: true });
  });

  it("runs one task on the agent: its interrupt is a watcher's question, the answer resumes it", async () => {
    const asked = next(gw, (_s, e) => e.type === 'question:asked');
    const run = cli(
      ['bridge', 'agui', agent.url, '--url', gw.url, '--prompt', 'release 1.2', '-H', 'x-team: core'],
      data,
    );
    const { stream, event } = await asked;
    assert.equal(event.type === 'question:asked' && event.data.prompt, 'Ship it?');
    assert.deepEqual(event.type === 'question:asked' && event.data.schema, {
      type: 'string',
      enum: ['ship', 'hold'],
    });
    await gw.commands.dispatch(
      {
        type: 'answer',
        stream,
        questionId: event.type === 'question:asked' ? event.data.questionId : '',
        answer: 'ship',
      },
      { subject: 'reviewer' },
    );
    assert.equal(await run.exit, 0, run.output());
    assert.match(run.output(), /completed: \{"decision":"ship"\}/);

    const history = (await gw.engine.read(stream, 0, 1000)).events;
    const types = history.map((e) => e.type);
    assert.equal(types[0], 'task:start');
    assert.equal(types.at(-1), 'task:complete');
    assert.ok(types.includes('tool:executing') && types.includes('tool:complete'));
    const texts = history
      .filter((e) => e.type === 'message:delta')
      .map((e) => (e.data as { delta: string }).delta);
    assert.deepEqual(texts, ['Planning "release 1.2".', 'Decision: ship.']);
    // The agent was resumed with the answer, on the same thread, with our header.
    assert.equal(agent.inputs.length, 2);
    assert.deepEqual(agent.inputs[1]!.resume, [
      { interruptId: 'approve-1', status: 'resolved', payload: 'ship' },
    ]);
    assert.equal(agent.inputs[0]!.threadId, taskIdOf(stream));
    assert.equal(agent.inputs[1]!.threadId, agent.inputs[0]!.threadId);
  });

  it("as a worker, serves tasks started over AG-UI itself, and forwards a watcher's cancel as an abort", async () => {
    const worker = cli(['bridge', 'agui', agent.url, '--url', gw.url, '--kind', 'remote-agent'], data);
    try {
      await waitFor(
        () => gw.producers.workers().some((w) => w.kinds.includes('remote-agent')),
        'the bridge to register',
      );
      // An AG-UI client, through the gateway, to the bridged AG-UI agent.
      const client = new HttpAgent({ url: `${gw.url}/v1/agui?kind=remote-agent` });
      client.addMessage({ id: 'u1', role: 'user', content: 'forever' });
      const events: BaseEvent[] = [];
      const running = client.runAgent({}, { onEvent: ({ event }) => void events.push(event) });
      await waitFor(
        () => events.filter((e) => e.type === 'TEXT_MESSAGE_CONTENT').length >= 5,
        'the agent to talk',
      );
      const abortedBefore = agent.aborted;
      const cancelled = await fetch(`${gw.url}/v1/agui/threads/${client.threadId}/cancel`, {
        method: 'POST',
      });
      assert.equal(cancelled.status, 200);
      await running;
      assert.equal(events.at(-1)?.type, 'RUN_ERROR');
      assert.equal((events.at(-1) as BaseEvent & { code?: string }).code, 'cancelled');
      await waitFor(() => agent.aborted > abortedBefore, 'the AG-UI agent to see its request aborted');
      const history = (await gw.engine.read(taskStream(client.threadId), 0, 10_000)).events;
      assert.equal(history.at(-1)?.type, 'task:cancelled');
      assert.ok(
        history.some((e) => e.type === 'message:end'),
        'the streamed message was closed',
      );
      assert.ok(!worker.output().includes('Error'), worker.output());
    } finally {
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exit, 0);
    }
  });

  it('refuses bad usage with exit code 2', async () => {
    const runs = [
      cli(['bridge', 'agui'], data),
      cli(['bridge', 'a2a', 'http://x'], data),
      cli(['bridge', 'agui', agent.url, '-H', 'no-colon', '--prompt', 'x'], data),
    ];
    assert.deepEqual(await Promise.all(runs.map((r) => r.exit)), [2, 2, 2]);
    assert.match(runs[0]!.output(), /Missing the AG-UI agent's URL/);
    assert.match(runs[1]!.output(), /Unknown bridge "a2a"/);
    assert.match(runs[2]!.output(), /--header must be 'Name: value'/);
  });
});
