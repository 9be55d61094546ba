import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { taskIdOf, type AnyEnvelope } from '@agentwire/protocol';
import { connect } from '@agentwire/agent';
import { createClient } from '@agentwire/client';

const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
const quickstart = fileURLToPath(new URL('../../../examples/dist/quickstart.js', import.meta.url));

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
}

/** Starts the real CLI and waits for it to print the gateway's URL. */
async function startCli(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI did not start: ${output}`)), 15_000);
    const check = () => {
      const match = /Tasks \(JSON\)\s+(http:\/\/[^\s/]+)\/v1\/tasks/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`CLI exited with ${code}: ${output}`)));
  });
  return { child, url, output: () => output };
}

function run(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, NO_COLOR: '1', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

async function stop(r: Running): Promise<number | null> {
  r.child.kill('SIGTERM');
  return new Promise((resolve) => r.child.once('exit', (code) => resolve(code)));
}

describe('end to end through the real processes', () => {
  let dir: string;
  let gw: Running;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentwire-e2e-'));
    gw = await startCli(['serve', '--insecure', '--port', '0', '--data', dir, '--log-level', 'warn']);
  });
  after(async () => {
    await stop(gw);
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes with the agent SDK over HTTP and receives with the client SDK', async () => {
    const client = createClient({ url: gw.url });
    const sub = client.subscribe('task:e2e', { since: { seq: 0 } });
    const received: AnyEnvelope[] = [];
    sub.onEvent((e) => received.push(e));
    await sub.ready;

    const aw = connect({ url: gw.url });
    const task = await aw.startTask({ taskId: 'e2e', title: 'End to end' });
    const agent = await task.spawnAgent({ name: 'worker', model: 'test-model' });
    const value = await agent.tool('add', { a: 1, b: 2 }, async () => 3);
    assert.equal(value, 3);
    const msg = await agent.startMessage({ role: 'assistant' });
    for (const t of ['The ', 'answer ', 'is 3.']) await msg.delta(t);
    await msg.end();
    await agent.complete();
    await task.complete({ summary: 'done' });
    await aw.close();

    const deadline = Date.now() + 5000;
    while (sub.state?.status !== 'completed' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      received.map((e) => e.seq),
      Array.from({ length: received.length }, (_, i) => i + 1),
    );
    assert.equal(sub.state?.status, 'completed');
    assert.equal(sub.state?.agents[agent.id]?.model, 'test-model');
    const tool = Object.values(sub.state?.tools ?? {})[0];
    assert.equal(tool?.tool, 'add');
    assert.equal(tool?.status, 'completed');
    assert.equal(Object.values(sub.state?.messages ?? {})[0]?.text, 'The answer is 3.');
    const server = (await (await fetch(`${gw.url}/v1/tasks/e2e`)).json()) as { state: unknown };
    assert.deepEqual(server.state, JSON.parse(JSON.stringify(sub.state)));
    await client.close();
  });

  it('runs the README quickstart against the running gateway', async () => {
    const result = await run([quickstart], { AGENTWIRE_URL: gw.url });
    assert.equal(result.code, 0, result.err);
    const stream = /published (task:\S+)/.exec(result.out)?.[1];
    assert.ok(stream, result.out);
    const snap = (await (await fetch(`${gw.url}/v1/tasks/${taskIdOf(stream)!}`)).json()) as {
      state: {
        status: string;
        title: string;
        toolOrder: string[];
        agentOrder: string[];
        result: { shortlist: string[] };
      };
    };
    assert.equal(snap.state.status, 'completed');
    assert.equal(snap.state.title, 'Find the best vector database');
    assert.equal(snap.state.toolOrder.length, 1);
    assert.equal(snap.state.agentOrder.length, 1);
    assert.deepEqual(snap.state.result.shortlist, ['pgvector', 'qdrant']);
  });

  it('publishes from a shell and tails a task until it ends', async () => {
    const one = await run([
      bin,
      'publish',
      'task:shell',
      'task:start',
      '{"taskId":"shell","title":"From a shell"}',
      '--url',
      gw.url,
      '--id',
      'first',
    ]);
    assert.equal(one.code, 0, one.err);
    assert.match(one.out, /task:shell seq=1 id=first/);
    const again = await run([
      bin,
      'publish',
      'task:shell',
      'task:start',
      '{"taskId":"shell","title":"From a shell"}',
      '--url',
      gw.url,
      '--id',
      'first',
    ]);
    assert.match(again.out, /seq=1 id=first \(duplicate\)/);
    const lines = [
      { type: 'agent:spawned', data: { agentId: 'a1', name: 'shell-agent' } },
      { type: 'tool:executing', data: { callId: 'c1', tool: 'grep', agentId: 'a1' } },
      { type: 'tool:complete', data: { callId: 'c1', durationMs: 12 } },
      { type: 'task:complete', data: { summary: 'all good' } },
    ];
    const many = await run(
      [bin, 'publish', 'task:shell', '--stdin', '--url', gw.url],
      {},
      lines.map((l) => JSON.stringify(l)).join('\n'),
    );
    assert.equal(many.code, 0, many.err);
    assert.equal(many.out.trim().split('\n').length, 4);

    const bad = await run([bin, 'publish', 'task:shell', 'tool:executing', '{"callId":1}', '--url', gw.url]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /invalid_payload/);

    const tailed = await run([bin, 'tail', 'shell', '--url', gw.url, '--from-start', '--exit']);
    assert.equal(tailed.code, 0, tailed.err);
    for (const expected of ['From a shell', 'shell-agent', 'grep', 'all good', 'completed']) {
      assert.ok(tailed.out.includes(expected), `tail shows ${expected}:\n${tailed.out}`);
    }
  });

  it('documents every command with --help', async () => {
    for (const command of ['serve', 'demo', 'tail', 'publish']) {
      const r = await run([bin, command, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.out, /Usage: agentwire/);
    }
    const serveHelp = await run([bin, 'serve', '--help']);
    for (const v of ['AGENTWIRE_PORT', 'AGENTWIRE_DATA', 'AGENTWIRE_RETENTION_EVENTS', 'AGENTWIRE_LOG_LEVEL'])
      assert.match(serveHelp.out, new RegExp(v));
    const unknown = await run([bin, 'nope']);
    assert.equal(unknown.code, 2);
  });
});

describe('agentwire demo', () => {
  it('starts the gateway with a live swarm and stops cleanly on SIGTERM', async () => {
    const demo = await startCli([
      'demo',
      '--insecure',
      '--port',
      '0',
      '--engine',
      'memory',
      '--log-level',
      'warn',
    ]);
    try {
      const deadline = Date.now() + 15_000;
      let tasks: { agents: number; tools: number }[] = [];
      while (Date.now() < deadline) {
        tasks = ((await (await fetch(`${demo.url}/v1/tasks`)).json()) as { tasks: typeof tasks }).tasks;
        if (tasks.some((t) => t.agents >= 2 && t.tools >= 1)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(
        tasks.some((t) => t.agents >= 2 && t.tools >= 1),
        JSON.stringify(tasks),
      );
    } finally {
      assert.equal(await stop(demo), 0, demo.output());
    }
  });
});

describe('secure by default: the commands the gateway prints work as printed', () => {
  it('mints a producer token from the data folder, runs the quickstart with it, and tails with the local secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentwire-secure-e2e-'));
    const gw = await startCli(
      ['serve', '--port', '0', '--data', dir, '--engine', 'memory', '--log-level', 'warn'],
      {
        AGENTWIRE_INSECURE: '',
      },
    );
    try {
      const printed =
        /Run your own agent:\s+AGENTWIRE_TOKEN=\$\(npx agentwire token --publish --data (\S+)\) AGENTWIRE_URL=(\S+) node examples\/dist\/quickstart\.js/.exec(
          gw.output(),
        );
      assert.ok(printed, gw.output());
      assert.equal(printed[2], gw.url);
      const refused = await run([quickstart], { AGENTWIRE_URL: gw.url, AGENTWIRE_TOKEN: '' });
      assert.notEqual(refused.code, 0, 'publishing without a token is refused');
      assert.match(refused.err, /unauthorized/);

      const minted = await run([bin, 'token', '--publish', '--data', printed[1]!]);
      assert.equal(minted.code, 0, minted.err);
      const token = minted.out.trim();
      const result = await run([quickstart], { AGENTWIRE_URL: gw.url, AGENTWIRE_TOKEN: token });
      assert.equal(result.code, 0, result.err);
      const stream = /published (task:\S+)/.exec(result.out)?.[1];
      assert.ok(stream, result.out);

      const tailed = await run(
        [bin, 'tail', stream, '--url', gw.url, '--data', dir, '--from-start', '--exit'],
        {
          AGENTWIRE_TOKEN: '',
        },
      );
      assert.equal(tailed.code, 0, tailed.err);
      for (const expected of ['Find the best vector database', 'researcher', 'search', 'completed']) {
        assert.ok(tailed.out.includes(expected), `tail shows ${expected}:\n${tailed.out}`);
      }
    } finally {
      await stop(gw);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
