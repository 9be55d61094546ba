import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Proc, SeedSocket, waitFor } from '../testing/index.js';

const bin = fileURLToPath(new URL('../bin.js', import.meta.url));
// The script is not compiled; dist/demo/… reaches it in src/ by path.
const FLASK_MONITOR = fileURLToPath(new URL('../../src/demo/fixtures/flask_monitor.py', import.meta.url));

/** A Python that can import Debian's python3-socketio (pyenv's `python3` may not see dist-packages). */
function findPython(): string | undefined {
  const candidates = [process.env.AGENTWIRE_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (c): c is string => !!c,
  );
  return candidates.find(
    (py) => spawnSync(py, ['-c', 'import socketio'], { stdio: 'ignore', timeout: 10_000 }).status === 0,
  );
}

/** The CLI as a user runs it: no inherited AGENTWIRE_* settings, no colors. */
function cliEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENTWIRE_')));
  return { ...env, NO_COLOR: '1' };
}

type Started = { taskId: string; stream: string };
type TerminalMessage = { type: string; projectId?: string; data?: Record<string, unknown> };

/**
 * Each seed client of docs/dialects.md against `agentwire demo` as `npm start` runs it (secure by
 * default, its SQLite log and secret in a data folder), with the tokens `agentwire token` mints
 * there: every one gets the demo's live data within seconds, and the ones that start tasks start
 * them on the demo's worker.
 */
describe('the seed clients against agentwire demo', () => {
  let dir: string;
  let demo: Proc;
  let url: string;
  let watcher: string;
  let operator: string;

  const token = async (...args: string[]) => {
    const p = Proc.start(process.execPath, [bin, 'token', '--data', dir, ...args], { env: cliEnv() });
    assert.equal(await p.done(), 0, p.output);
    return p.output.trim();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentwire-seeds-'));
    demo = Proc.start(process.execPath, [bin, 'demo', '--port', '0', '--data', dir], { env: cliEnv() });
    const [, base] = await demo.match(/Dashboard\s+(http:\/\/[^/\s]+)\/\?token=/);
    url = base!;
    watcher = await token();
    operator = await token('--role', 'operator');
    assert.equal((await fetch(`${url}/v1/tasks`)).status, 401, 'the demo is secure by default');
  });
  after(async () => {
    assert.equal(await demo.stop(), 0, demo.output);
    rmSync(dir, { recursive: true, force: true });
  });

  it("seeds 000/001 (mageagent): start_agent_task runs a task the starter watches; a room shows the demo's own tasks", async () => {
    const mage = await SeedSocket.open(url, { path: '/mageagent/socket.io', auth: { token: operator } });
    try {
      const ack = (await mage.socket.emitWithAck('start_agent_task', {
        task: 'Compare three logging libraries',
      })) as { ok: boolean; result: Started };
      assert.equal(ack.ok, true, JSON.stringify(ack));
      await mage.socket.emitWithAck('subscribe', { room: ack.result.stream });
      const spawned = await mage.waitFor('agent:spawned', (p) => p.taskId === ack.result.taskId);
      assert.equal(spawned.name, 'planner');
      await mage.waitFor('tool:executing', (p) => p.taskId === ack.result.taskId);
      await mage.waitFor('agent_stream', (p) => p.agentId !== undefined);

      // The demo's newest background task, joined while it runs: its snapshot, then live events.
      const res = await fetch(`${url}/v1/tasks?status=running&limit=20`, {
        headers: { authorization: `Bearer ${watcher}` },
      });
      const running = (
        (await res.json()) as { tasks: { taskId: string; stream: string; createdAt: number }[] }
      ).tasks;
      const background = running
        .filter((t) => t.taskId !== ack.result.taskId)
        .sort((x, y) => y.createdAt - x.createdAt)[0];
      assert.ok(background, `a demo task is running: ${JSON.stringify(running)}`);
      const viewer = await SeedSocket.open(url, { path: '/mageagent/socket.io', auth: { token: watcher } });
      try {
        await viewer.socket.emitWithAck('subscribe', { room: background.stream });
        await viewer.waitFor('task:start', (p) => p.taskId === background.taskId);
        await waitFor(
          () =>
            viewer.received.some((r) => {
              const p = r.payload as { taskId?: string; replay?: boolean } | undefined;
              return p?.taskId === background.taskId && p.replay !== true;
            }),
          `a live event of ${background.stream}; got ${JSON.stringify(viewer.received.map((r) => r.event))}`,
        );
      } finally {
        viewer.close();
      }
    } finally {
      mage.close();
    }
  });

  it('seed 002 (progress): start streams progress to the starter, and cancel ends the request', async () => {
    const requestId = `req-${Date.now()}`;
    const client = await SeedSocket.open(url, {
      path: '/progress/socket.io',
      query: { requestId, token: operator },
    });
    try {
      const started = (await client.socket.emitWithAck('start', {
        requestId,
        userQuery: 'Which database should the new service use?',
      })) as { ok: boolean };
      assert.equal(started.ok, true, JSON.stringify(started));
      const step = await client.waitFor('progress', (p) => p.agent !== null && p.requestId === requestId);
      assert.equal(step.type, 'progress');
      await client.waitFor('progress', (p) => (p.data as { tool?: string } | undefined)?.tool !== undefined);
      const cancelled = (await client.socket.emitWithAck('cancel', { requestId, reason: 'seen enough' })) as {
        ok: boolean;
      };
      assert.equal(cancelled.ok, true, JSON.stringify(cancelled));
      const done = await client.waitFor('request.completed');
      assert.equal(done.status, 'cancelled');
    } finally {
      client.close();
    }
  });

  it("seed 003 (flask-dashboard, python-socketio): the monitoring room shows the demo's agents and tools", async (t) => {
    const python = findPython();
    if (!python) {
      assert.notEqual(
        process.env.CI,
        'true',
        'python3-socketio must be installed in CI (.ci/run installs it)',
      );
      t.skip('python3-socketio is not installed: apt-get install python3-socketio');
      return;
    }
    const child = spawn(python, [FLASK_MONITOR, url, '/dashboard/socket.io', watcher, '6'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines[0], { joined: { ok: true, room: 'monitoring' } });
    assert.deepEqual(lines.at(-1), { complete: true, transport: 'websocket' });
    const events = lines.filter((l) => l.event !== undefined);
    assert.ok(events.length >= 6, out);
    assert.ok(
      events.every((e) =>
        ['agent_started', 'agent_completed', 'tool_executed', 'agent_handoff'].includes(String(e.event)),
      ),
      out,
    );
    assert.ok(
      events.some((e) => typeof (e.payload as { task_id?: unknown }).task_id === 'string'),
      'events name their task',
    );
  });

  it("seed 004 (swarm terminal, plain WebSocket): the project's live task, from connection_established on", async () => {
    const project = `terminal-${Date.now()}`;
    const ws = new WebSocket(
      `${url.replace(/^http/, 'ws')}/ws/admin/agent-swarm/${project}?token=${encodeURIComponent(watcher)}`,
    );
    const messages: TerminalMessage[] = [];
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as TerminalMessage & { messages?: TerminalMessage[] };
      messages.push(...(frame.type === 'batch' ? frame.messages! : [frame]));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      await waitFor(
        () => messages.some((m) => m.type === 'connection_established'),
        'connection_established',
      );
      // A task started in the project under the project's own id is the project's live stream.
      const res = await fetch(`${url}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          title: 'Audit the on-call runbooks',
          kind: 'engineering',
          taskId: project,
          projectId: project,
        }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      await waitFor(
        () => messages.some((m) => m.type === 'project_started'),
        `project_started; got ${messages.map((m) => m.type).join(', ')}`,
      );
      await waitFor(
        () => messages.some((m) => m.type === 'agent_status_update'),
        `agent_status_update; got ${messages.map((m) => m.type).join(', ')}`,
      );
      await waitFor(
        () => messages.some((m) => m.type === 'workflow_log'),
        `workflow_log; got ${messages.map((m) => m.type).join(', ')}`,
      );
      const started = messages.find((m) => m.type === 'project_started')!;
      assert.equal(started.data?.title, 'Audit the on-call runbooks');
      assert.equal(started.data?.kind, 'engineering');
    } finally {
      ws.close();
    }
  });
});
