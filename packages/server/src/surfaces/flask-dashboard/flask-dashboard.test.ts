import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { AgentwireError } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../../gateway.js';
import { RecordingRouter } from '../../testing/recording-router.js';
import { SioProbe } from '../../testing/sio-probe.js';
import { letTimePass } from '../../testing/wait.js';

const PATH = '/dashboard/socket.io';
// The script is not compiled; dist/surfaces/… reaches it in src/ by path.
const PY_CLIENT = fileURLToPath(new URL('../../../src/testing/children/flask_client.py', import.meta.url));

/** A Python that can import Debian's python3-socketio (pyenv's `python3` may not see dist-packages). */
function findPython(): string | undefined {
  const candidates = [process.env.AGENTWIRE_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (c): c is string => !!c,
  );
  return candidates.find(
    (py) =>
      spawnSync(py, ['-c', 'import socketio, requests, websocket'], { stdio: 'ignore', timeout: 10_000 })
        .status === 0,
  );
}

const without = (payload: Record<string, unknown>, ...keys: string[]) =>
  Object.fromEntries(Object.entries(payload).filter(([k]) => !keys.includes(k)));

async function dashboard(
  gw: Gateway,
  rooms: string[],
  auth: Record<string, unknown> = { token: 'tok' },
): Promise<SioProbe> {
  const p = await SioProbe.open(gw.url, { path: PATH, auth });
  for (const room of rooms)
    assert.deepEqual(await p.socket.emitWithAck('join_room', { room }), { ok: true, room });
  return p;
}

/** Two tasks of agent work, a streamed reply, a watcher's chat message and system samples. */
async function publishActivity(aw: Producer, prefix: string): Promise<void> {
  const t1 = await aw.startTask({ taskId: `${prefix}-1`, title: 'One' });
  const t2 = await aw.startTask({ taskId: `${prefix}-2`, title: 'Two' });
  const planner = await t1.spawnAgent({ name: 'planner', model: 'gpt-4o', agentId: `${prefix}-planner` });
  const coder = await t2.spawnAgent({ name: 'coder', agentId: `${prefix}-coder` });
  await planner.tool('search', { q: 'x' }, async () => 'hits', { callId: `${prefix}-call` });
  const writer = await t1.spawnAgent({ name: 'writer', agentId: `${prefix}-writer` });
  await planner.handoff(writer, 'draft it');
  await aw.publish(t1.stream, [
    { type: 'chat:message', data: { messageId: `${prefix}-m1`, text: 'Make it short', from: 'alice' } },
  ]);
  await writer.streamMessage(['Short ', 'answer.'], { messageId: `${prefix}-m2` });
  await coder.complete({ lines: 10 });
  await aw.publish('system', [
    { type: 'system:health', data: { status: 'ok', checks: { db: 'up' } } },
    { type: 'system:performance', data: { metrics: { p99Ms: 12 } } },
    { type: 'system:alert', data: { severity: 'warning', message: 'Disk 80% full', source: 'disk' } },
  ]);
}

const MONITORING = [
  'agent_started',
  'agent_started',
  'tool_executed',
  'agent_started',
  'agent_handoff',
  'agent_completed',
  'health_update',
  'performance_update',
  'alert_created',
];
const CHAT = ['chat_message', 'typing_indicator', 'typing_indicator', 'chat_response'];

describe('flask-dashboard dialect (seed 003)', () => {
  let gw: Gateway;
  let aw: Producer;
  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent' });
    aw = connect({ url: gw.url });
  });
  after(async () => {
    await aw.close();
    await gw.close();
  });

  it('delivers each room what it carries: chat, agent activity across all tasks, system samples, presence', async () => {
    const admin = await dashboard(gw, ['admin']);
    const monitor = await dashboard(gw, ['monitoring'], { token: 'tok-m', user_id: 'mona' });
    const chat = await dashboard(gw, ['chat']);
    await publishActivity(aw, 'fd');
    await monitor.until(() => monitor.of('alert_created').length === 1);
    await chat.until(() => chat.of('chat_response').length === 1);
    await admin.until(() => admin.of('alert_created').length === 1);

    assert.deepEqual(monitor.names(), MONITORING);
    assert.deepEqual(chat.names(), CHAT);
    assert.deepEqual(
      admin.names().filter((n) => n !== 'user_joined'),
      ['health_update', 'performance_update', 'alert_created'],
    );
    // Admin sees everyone who joins any room; the joiner itself is not told.
    assert.deepEqual(
      admin.of('user_joined').map((u) => [u.room, u.user_id]),
      [
        ['monitoring', 'mona'],
        ['chat', chat.socket.id],
      ],
    );

    const [started, , tool, , handoff, completed, health, perf, alert] = monitor.received.map(
      (r) => r.payload as Record<string, unknown>,
    );
    assert.match(String(started!.timestamp), /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(without(started!, 'timestamp'), {
      agent_name: 'planner',
      agent_id: 'fd-planner',
      activity: 'started',
      details: { task_id: 'fd-1', model: 'gpt-4o' },
      task_id: 'fd-1',
    });
    assert.equal(typeof tool!.duration_ms, 'number');
    assert.deepEqual(without(tool!, 'timestamp', 'duration_ms'), {
      agent_id: 'fd-planner',
      agent_name: 'planner',
      tool: 'search',
      call_id: 'fd-call',
      status: 'completed',
      result: 'hits',
      task_id: 'fd-1',
    });
    assert.deepEqual(without(handoff!, 'timestamp'), {
      from_agent: 'planner',
      to_agent: 'writer',
      from_agent_id: 'fd-planner',
      to_agent_id: 'fd-writer',
      reason: 'draft it',
      task_id: 'fd-1',
    });
    assert.deepEqual(without(completed!, 'timestamp'), {
      agent_name: 'coder',
      agent_id: 'fd-coder',
      activity: 'completed',
      details: { task_id: 'fd-2', result: { lines: 10 } },
      task_id: 'fd-2',
    });
    assert.deepEqual(without(health!, 'timestamp'), { status: 'ok', checks: { db: 'up' } });
    assert.deepEqual(without(perf!, 'timestamp'), { metrics: { p99Ms: 12 } });
    assert.deepEqual(without(alert!, 'timestamp'), {
      severity: 'warning',
      message: 'Disk 80% full',
      source: 'disk',
    });

    const [message, typing, stopped, response] = chat.received.map((r) =>
      without(r.payload as Record<string, unknown>, 'timestamp'),
    );
    assert.deepEqual(message, {
      message: 'Make it short',
      user_id: 'alice',
      message_id: 'fd-m1',
      task_id: 'fd-1',
      session_id: 'fd-1',
    });
    assert.deepEqual(typing, {
      agent_id: 'fd-writer',
      agent_name: 'writer',
      message_id: 'fd-m2',
      typing: true,
      task_id: 'fd-1',
      session_id: 'fd-1',
    });
    assert.deepEqual(stopped, { ...typing, typing: false });
    assert.deepEqual(response, {
      agent_id: 'fd-writer',
      agent_name: 'writer',
      message_id: 'fd-m2',
      message: 'Short answer.',
      task_id: 'fd-1',
      session_id: 'fd-1',
    });

    monitor.close();
    await admin.until(() => admin.of('user_left').length === 1);
    assert.deepEqual(without(admin.of('user_left')[0]!, 'timestamp', 'sid'), {
      user_id: 'mona',
      room: 'monitoring',
    });
    // Leaving a room closes its feeds: nothing more arrives for it.
    assert.deepEqual(await chat.socket.emitWithAck('leave_room', 'chat'), { ok: true, room: 'chat' });
    await aw.publish('task:fd-1', [{ type: 'chat:message', data: { messageId: 'fd-m3', text: 'again' } }]);
    await letTimePass(100);
    assert.equal(chat.of('chat_message').length, 1);
    admin.close();
    chat.close();
  });

  it('GET /api/websocket/status reports connections and room sizes', async () => {
    const a = await dashboard(gw, ['chat', 'monitoring']);
    const b = await dashboard(gw, ['chat']);
    const res = await fetch(`${gw.url}/api/websocket/status`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      status: 'active',
      connections: 2,
      rooms: { chat: 2, monitoring: 1, admin: 0 },
    });
    b.close();
    await a.until(() => a.of('user_left').length === 1);
    const after = (await (await fetch(`${gw.url}/api/websocket/status`)).json()) as { connections: number };
    assert.equal(after.connections, 1);
    a.close();
  });

  it('turns chat_message into a message command; refuses unknown rooms and bad payloads with typed errors', async () => {
    const router = new RecordingRouter();
    const previous = gw.commands;
    gw.commands = router;
    try {
      const p = await dashboard(gw, ['chat']);
      assert.deepEqual(
        await p.socket.emitWithAck('chat_message', { message: 'Stop after this step', session_id: 'fd-1' }),
        {
          ok: true,
          result: { accepted: 'message' },
        },
      );
      assert.deepEqual(router.received[0]!.command, {
        type: 'message',
        stream: 'task:fd-1',
        text: 'Stop after this step',
      });
      p.socket.emit('join_room', { room: 'kitchen' });
      p.socket.emit('chat_message', { message: 'no task named' });
      p.socket.emit('chat_message', 'not an object');
      p.socket.emit('typing', {});
      await p.until(() => p.of('error').length === 4);
      assert.deepEqual(
        p.of('error').map((e) => [e.event, e.code]),
        [
          ['join_room', 'invalid_message'],
          ['chat_message', 'invalid_message'],
          ['chat_message', 'invalid_message'],
          ['typing', 'unknown_op'],
        ],
      );
      assert.match(
        String(p.of('error')[0]!.message),
        /unknown room "kitchen"; rooms are chat, monitoring, admin/,
      );
      p.close();
    } finally {
      gw.commands = previous;
    }
  });

  it('records the auth token, and a plugged-in verifier can refuse it and name the user', async () => {
    const seen: (string | undefined)[] = [];
    const strict = await createGateway({
      port: 0,
      logLevel: 'silent',
      verifyDialectToken: (token, ctx) => {
        seen.push(`${ctx.transport}:${ctx.dialect}:${token}`);
        if (token !== 'good') throw new AgentwireError('unauthorized', 'Bad token.');
        return { subject: 'user-1', token };
      },
    });
    const router = new RecordingRouter();
    strict.commands = router;
    try {
      await assert.rejects(
        SioProbe.open(strict.url, { path: PATH, auth: { token: 'bad' } }),
        (err: Error & { data?: unknown }) => {
          assert.equal(err.message, 'Bad token.');
          assert.deepEqual(err.data, { code: 'unauthorized', message: 'Bad token.' });
          return true;
        },
      );
      const watcher = await SioProbe.open(strict.url, { path: PATH, auth: { token: 'good' } });
      await watcher.socket.emitWithAck('join_room', 'admin');
      const user = await SioProbe.open(strict.url, {
        path: PATH,
        auth: { token: 'good', user_id: 'spoofed' },
      });
      await user.socket.emitWithAck('join_room', 'chat');
      await user.socket.emitWithAck('chat_message', { message: 'hi', task_id: 't' });
      assert.equal((await watcher.waitFor('user_joined')).user_id, 'user-1');
      assert.deepEqual(router.received[0]!.sender, { connection: user.socket.id, subject: 'user-1' });
      assert.deepEqual(seen, [
        'socketio:flask-dashboard:bad',
        'socketio:flask-dashboard:good',
        'socketio:flask-dashboard:good',
      ]);
      watcher.close();
      user.close();
    } finally {
      await strict.close();
    }
  });

  it("serves a Python client (Debian's python3-socketio): token in auth, rooms, events, acks", async (t) => {
    const python = findPython();
    if (!python) {
      assert.notEqual(
        process.env.CI,
        'true',
        'python3-socketio must be installed in CI (.ci/run installs it)',
      );
      t.skip(
        'python3-socketio is not installed: apt-get install python3-socketio python3-requests python3-websocket',
      );
      return;
    }
    const router = new RecordingRouter();
    const previous = gw.commands;
    gw.commands = router;
    const lines: Record<string, unknown>[] = [];
    try {
      const expected = MONITORING.length + CHAT.length;
      const child = spawn(python, [PY_CLIENT, gw.url, PATH, 'py-token', String(expected)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let pending = '';
      let published: Promise<void> | undefined;
      child.stdout.on('data', (d: Buffer) => {
        pending += d.toString();
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const line = JSON.parse(pending.slice(0, nl)) as Record<string, unknown>;
          pending = pending.slice(nl + 1);
          lines.push(line);
          if (line.ready) published = publishActivity(aw, 'py');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      await published;
      assert.equal(code, 0, stderr);
    } finally {
      gw.commands = previous;
    }
    assert.deepEqual(
      lines.slice(0, 3).map((l) => l.joined),
      ['monitoring', 'chat', 'admin'].map((room) => ({ ok: true, room })),
    );
    assert.deepEqual(lines[4]!.chat_ack, { ok: true, result: { accepted: 'message' } });
    assert.deepEqual(
      router.received.map((r) => r.command),
      [{ type: 'message', stream: 'task:py-task', text: 'hello from python' }],
    );
    assert.equal((lines[5]!.bad_room as { error: { code: string } }).error.code, 'invalid_message');
    const final = lines[6] as {
      received: { event: string; payload: Record<string, unknown> }[];
      complete: boolean;
      transport: string;
    };
    assert.equal(final.complete, true);
    assert.equal(final.transport, 'websocket', 'the client upgraded from polling to WebSocket');
    const events = final.received.map((r) => r.event);
    // A socket in several rooms gets each event once; chat and monitoring interleave by commit order.
    assert.deepEqual(
      events.filter((e) => !CHAT.includes(e)),
      MONITORING,
    );
    assert.deepEqual(
      events.filter((e) => CHAT.includes(e)),
      CHAT,
    );
    const response = final.received.find((r) => r.event === 'chat_response')!.payload;
    assert.equal(response.message, 'Short answer.');
    assert.equal(final.received.find((r) => r.event === 'agent_handoff')!.payload.to_agent, 'writer');
  });
});
