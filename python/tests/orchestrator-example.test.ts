import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import type { Gateway } from '@agentwire/server';
import { findPython, installedPython, repoDir, secureGateway } from './python-env.js';

const example = join(repoDir, 'examples', 'python', 'request_orchestrator.py');
const found = findPython();

type Payload = Record<string, unknown> & { data?: Record<string, unknown> };

/** Seed 002's page: socket.io-client in the request's room, recording what it receives. */
class SeedPage {
  readonly received: { event: string; payload: Payload }[] = [];
  private wake: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string, payload: Payload) => {
      this.received.push({ event, payload });
      this.wake?.();
    });
  }

  static async open(url: string, requestId: string, token: string): Promise<SeedPage> {
    // The seed's client, plus the token a gateway with auth on asks for.
    const socket = io(url, {
      path: '/progress/socket.io',
      query: { requestId },
      auth: { token },
      reconnection: false,
      forceNew: true,
    });
    const page = new SeedPage(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return page;
  }

  of(event: string): Payload[] {
    return this.received.filter((r) => r.event === event).map((r) => r.payload);
  }

  /** Resolves with the first payload of `event` that `match` accepts, as soon as it arrives. */
  async next(
    event: string,
    match: (p: Payload) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<Payload> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.of(event).find(match);
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(`no ${event} in ${JSON.stringify(this.received.map((r) => r.event))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now() + 1);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

describe("seed 002's request orchestrator in Python (examples/python)", () => {
  let gw: Gateway;
  let watcherToken: string;
  let orchestrator: ChildProcess;
  let output = '';
  let dispose = () => {};

  before(async () => {
    if (!found.python) return;
    const installed = await installedPython(found.python);
    dispose = installed.dispose;
    const secure = await secureGateway();
    ({ gw, watcherToken } = secure);
    orchestrator = spawn(installed.python, [example], {
      env: {
        ...process.env,
        AGENTWIRE_URL: gw.url,
        AGENTWIRE_TOKEN: secure.producerToken,
        // Long enough that a cancel sent as the first step starts lands while the request still runs.
        ORCHESTRATOR_STEP_SECONDS: '1',
        PYTHONUNBUFFERED: '1',
      },
    });
    orchestrator.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      orchestrator.stdout!.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('orchestrator ready')) resolve();
      });
      orchestrator.once('exit', (code) => reject(new Error(`the orchestrator exited (${code}): ${output}`)));
    });
  });
  after(async () => {
    if (orchestrator && orchestrator.exitCode === null) {
      const exited = new Promise((resolve) => orchestrator.once('exit', resolve));
      orchestrator.kill('SIGTERM');
      await exited;
    }
    await gw?.close();
    dispose();
  });

  it(
    'runs a request from start to request.completed, with a question answered by feedback',
    {
      skip: found.skip,
    },
    async () => {
      const requestId = 'req-py-123';
      const page = await SeedPage.open(gw.url, requestId, watcherToken);
      try {
        page.socket.emit('start', {
          requestId,
          userQuery: 'vector databases',
          context: { confirm: true },
        });
        const question = await page.next('question');
        assert.equal(question.prompt, 'Publish the summary?');
        assert.equal(question.agent, 'executor-agent');
        page.socket.emit('feedback', { requestId, questionId: question.questionId, answer: 'yes' });
        const done = await page.next('request.completed');

        assert.equal(done.status, 'completed');
        assert.deepEqual(done.result, {
          query: 'vector databases',
          summary: 'vector databases, covering overview, benchmarks, pricing.',
          published: true,
        });
        assert.deepEqual(
          page.of('agent.completed').map((p) => [p.agent, p.requestId]),
          [
            ['thought-agent', requestId],
            ['executor-agent', requestId],
          ],
        );
        assert.deepEqual(page.of('agent.completed')[0]!.data!.result, {
          plan: ['web_search', 'read_sources', 'write_summary'],
        });
        const steps = page
          .of('progress')
          .filter((p) => p.data?.stepId !== undefined)
          .map((p) => [p.agent, p.step, p.status, p.data!.tool]);
        assert.deepEqual(steps, [
          ['executor-agent', 1, 'running', 'web_search'],
          ['executor-agent', 1, 'completed', 'web_search'],
          ['executor-agent', 2, 'running', 'read_sources'],
          ['executor-agent', 2, 'completed', 'read_sources'],
          ['executor-agent', 3, 'running', 'write_summary'],
          ['executor-agent', 3, 'completed', 'write_summary'],
        ]);
        const overall = page.of('progress').filter((p) => p.agent === null && p.data?.percent !== undefined);
        assert.deepEqual(
          overall.map((p) => p.data!.percent),
          [0, 33, 67],
        );
        assert.deepEqual(page.of('error'), []);
      } finally {
        page.close();
      }
    },
  );

  it(
    "stops a request on the page's cancel, with nothing after request.completed",
    { skip: found.skip },
    async () => {
      const requestId = 'req-py-cancel';
      const page = await SeedPage.open(gw.url, requestId, watcherToken);
      try {
        page.socket.emit('start', { requestId, userQuery: 'something long' });
        await page.next('progress', (p) => p.status === 'running' && p.data?.stepId !== undefined);
        page.socket.emit('cancel', { requestId, reason: 'changed my mind' });
        const done = await page.next('request.completed');
        assert.equal(done.status, 'cancelled');
        assert.equal(done.reason, 'changed my mind');
        assert.equal(done.by, 'alice');

        // The gateway's log has the whole story: the step in flight was closed by the cancel, not
        // completed; nothing follows the cancel.
        const res = await fetch(`${gw.url}/v1/streams/task%3A${requestId}/events`, {
          headers: { authorization: `Bearer ${watcherToken}` },
        });
        const types = ((await res.json()) as { events: { type: string }[] }).events.map((e) => e.type);
        const count = (type: string) => types.filter((t) => t === type).length;
        assert.equal(types.at(-1), 'task:cancelled');
        assert.equal(count('task:cancelled'), 1);
        assert.equal(count('task:complete'), 0, types.join(' '));
        assert.equal(count('tool:executing'), count('tool:complete') + 1, types.join(' '));
        assert.equal(page.received.at(-1)!.event, 'request.completed');
      } finally {
        page.close();
      }
      assert.equal(orchestrator.exitCode, null, `the orchestrator keeps serving: ${output}`);
    },
  );
});
