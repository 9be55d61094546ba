import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { projectStream, taskIdOf } from '@agentwire/protocol';
import WebSocket from 'ws';
import type { Gateway } from '../gateway.js';
import { SioProbe } from '../testing/sio-probe.js';
import { watcherSurfaces } from '../testing/surfaces.js';
import { WsProbe } from '../testing/ws-probe.js';
import { A, B, cast, getJson, log, secureGateway, spawned } from '../testing/auth-kit.js';

/**
 * A token for project A sees nothing of project B, on every transport and dialect: subscriptions
 * are refused with `forbidden`, reads answer 403, the task list leaves B out, and pattern feeds
 * (dashboard rooms that watch every task) carry only A's events.
 */
describe('project isolation on every transport', () => {
  let gw: Gateway;
  // The shared surfaces follow one task; seed 004's terminal does that under its task mapping (its
  // project mapping is tested below).
  let taskMapped: Gateway;
  let t: Awaited<ReturnType<typeof cast>>;
  before(async () => {
    gw = await secureGateway();
    taskMapped = await secureGateway({ swarmTerminal: { stream: 'task:{projectId}' } });
    t = await cast();
  });
  after(() => Promise.all([gw.close(), taskMapped.close()]));

  // Every watcher surface in testing/surfaces.ts, so a new transport or dialect is covered here.
  let n = 0;
  for (const surface of watcherSurfaces) {
    it(`${surface.name}: follows A's task, never B's`, async () => {
      const gw = taskMapped;
      const i = ++n;
      const a = await surface.watch.open(gw.url, t.viewerA, A.task);
      const b =
        surface.watch.follows === 'stream' ? await surface.watch.open(gw.url, t.viewerA, B.task) : undefined;
      try {
        assert.equal(a.refusal, undefined, 'following A');
        if (b) {
          await b.until(() => b.refusal !== undefined, 'a refusal of B');
          assert.equal(b.refusal, 'forbidden');
        }
        await gw.publish(B.task, [spawned(`beta-secret-${i}`)]);
        await gw.publish(A.task, [spawned(`alpha-${i}`)]);
        await a.until(() => a.texts.some((x) => x.includes(`alpha-${i}`)), 'A’s event');
        for (const w of b ? [a, b] : [a])
          assert.deepEqual(
            w.texts.filter((x) => x.includes('beta-secret') || x.includes(`secret of ${B.project}`)),
            [],
          );
      } finally {
        a.close();
        b?.close();
      }
    });
  }

  it('native WebSocket: A subscribes to its task and project, B and system are forbidden', async () => {
    const p = await WsProbe.open(`${gw.wsUrl}?token=${t.viewerA}`);
    for (const stream of [
      A.task,
      projectStream(A.project),
      B.task,
      projectStream(B.project),
      'system',
      'task:nope',
    ]) {
      p.send({ op: 'subscribe', stream, since: { seq: 0 }, ref: stream });
    }
    await p.until(
      () =>
        p.frames.filter((f) => (f.op === 'subscribed' || f.op === 'error') && f.ref !== undefined).length ===
        6,
    );
    const outcome = (ref: string) => {
      const f = p.frames.find((x) => (x.op === 'subscribed' || x.op === 'error') && x.ref === ref)!;
      return f.op === 'error' ? f.code : f.op;
    };
    assert.equal(outcome(A.task), 'subscribed');
    assert.equal(outcome(projectStream(A.project)), 'subscribed');
    assert.equal(outcome(B.task), 'forbidden');
    assert.equal(outcome(projectStream(B.project)), 'forbidden');
    assert.equal(outcome('system'), 'forbidden');
    // A task that does not exist is refused the same way: a refusal says nothing about B.
    assert.equal(outcome('task:nope'), 'forbidden');
    await gw.publish(B.task, [log('beta secret 2')]);
    await gw.publish(A.task, [log('alpha 2')]);
    await p.until(() => p.events.some((e) => e.stream === A.task && e.seq === 3));
    assert.ok(p.events.every((e) => e.stream === A.task || e.stream === projectStream(A.project)));
    p.close();
  });

  it('SSE and long-polling: B is 403 forbidden, A streams', async () => {
    const sseB = await getJson(`${gw.url}/v1/streams/${B.task}/sse?token=${t.viewerA}`);
    assert.equal(sseB.status, 403);
    assert.match(String(sseB.body), /event: error\ndata: .*"code":"forbidden"/);
    const pollB = await getJson(`${gw.url}/v1/streams/${B.task}/poll?after=0`, t.viewerA);
    assert.equal(pollB.status, 403);
    assert.equal(pollB.body.error.code, 'forbidden');
    const pollA = await getJson(`${gw.url}/v1/streams/${A.task}/poll?after=0`, t.viewerA);
    assert.equal(pollA.status, 200);
    assert.ok(pollA.body.events.length >= 2);
  });

  it('HTTP history, head, snapshot and task list show A only', async () => {
    for (const path of [
      `/v1/streams/${B.task}`,
      `/v1/streams/${B.task}/events`,
      `/v1/tasks/b1`,
      `/v1/streams/project:${B.project}/events`,
    ]) {
      const r = await getJson(`${gw.url}${path}`, t.viewerA);
      assert.equal(r.status, 403, path);
      assert.equal(r.body.error.code, 'forbidden', path);
    }
    assert.equal((await getJson(`${gw.url}/v1/tasks/a1`, t.viewerA)).body.state.projectId, A.project);
    const list = await getJson(`${gw.url}/v1/tasks`, t.viewerA);
    assert.deepEqual(
      list.body.tasks.map((x: { stream: string }) => x.stream),
      [A.task],
    );
    // Asking for B's project by filter gives nothing, not B's tasks.
    assert.deepEqual((await getJson(`${gw.url}/v1/tasks?project=${B.project}`, t.viewerA)).body.tasks, []);
    assert.equal((await getJson(`${gw.url}/v1/tasks`, t.admin)).body.tasks.length, 2);
  });

  it('seed 004 terminal: the WebSocket closes with 4403 for B; its polling answers 403', async () => {
    const terminal = (project: string) =>
      `${gw.url.replace('http', 'ws')}/ws/admin/agent-swarm/${project}?token=${t.viewerA}`;
    const ws = new WebSocket(terminal(B.project));
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    assert.equal(code, 4403);
    const poll = await getJson(`${gw.url}/v1/public/agent-swarms/${B.project}/messages?token=${t.viewerA}`);
    assert.equal(poll.status, 403);
    const ok = await getJson(`${gw.url}/v1/public/agent-swarms/${A.project}/messages?token=${t.viewerA}`);
    assert.equal(ok.status, 200);
    // The project's live task is drawn, B's never.
    assert.deepEqual(
      [...new Set(ok.body.messages.map((m: { data: { taskId?: string } }) => m.data.taskId))],
      [taskIdOf(A.task)!],
    );
  });

  it('Socket.IO native and mageagent: subscribing to B is refused with forbidden', async () => {
    const native = await SioProbe.open(gw.url, { auth: { token: t.viewerA }, transports: ['websocket'] });
    const refused = (await native.socket.emitWithAck('subscribe', { stream: B.task })) as {
      op: string;
      code: string;
    };
    assert.deepEqual([refused.op, refused.code], ['error', 'forbidden']);
    const accepted = (await native.socket.emitWithAck('subscribe', { stream: A.task })) as { op: string };
    assert.equal(accepted.op, 'subscribed');
    native.close();
    const mage = await SioProbe.open(gw.url, {
      path: '/mageagent/socket.io',
      auth: { token: t.viewerA },
      transports: ['websocket'],
    });
    const ack = (await mage.socket.emitWithAck('subscribe', { room: B.task })) as {
      ok: boolean;
      error?: { code: string };
    };
    assert.equal(ack.ok, false);
    assert.equal(ack.error?.code, 'forbidden');
    mage.close();
  });

  it('Socket.IO progress: a request id of project B is refused on connect', async () => {
    const progress = await SioProbe.open(gw.url, {
      path: '/progress/socket.io',
      auth: { token: t.viewerA },
      query: { requestId: 'b1' },
      transports: ['websocket'],
    });
    const err = await progress.waitFor<{ code: string }>('error');
    assert.equal(err.code, 'forbidden');
    assert.equal(progress.of('progress').length, 0);
    progress.close();
  });

  it('Socket.IO flask dashboard: the monitoring room (every task) carries only A', async () => {
    const flask = await SioProbe.open(gw.url, {
      path: '/dashboard/socket.io',
      auth: { token: t.viewerA },
      transports: ['websocket'],
    });
    await flask.socket.emitWithAck('join_room', { room: 'monitoring' });
    await gw.publish(B.task, [spawned('b-agent')]);
    await gw.publish(A.task, [spawned('a-agent')]);
    await flask.waitFor('agent_started');
    await gw.publish(A.task, [spawned('a-agent-2')]);
    await flask.waitFor('agent_started', 2);
    const tasks = flask.of<{ task_id: string }>('agent_started').map((p) => p.task_id);
    assert.deepEqual(tasks, ['a1', 'a1']);
    flask.close();
  });

  it('commands: an operator of A cannot act on B, on the WebSocket and over HTTP', async () => {
    const p = await WsProbe.open(`${gw.wsUrl}?token=${t.operatorA}`);
    p.send({ op: 'command', ref: 'c1', command: { type: 'cancel', stream: B.task } });
    p.send({ op: 'command', ref: 'c2', command: { type: 'start', kind: 'research', projectId: B.project } });
    const e1 = await p.waitFor('error', (f) => f.ref === 'c1');
    const e2 = await p.waitFor('error', (f) => f.ref === 'c2');
    assert.deepEqual([e1.code, e2.code], ['forbidden', 'forbidden']);
    p.close();
    const http = await getJson(`${gw.url}/v1/commands`, t.operatorA, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', stream: B.task, text: 'hi' }),
    });
    assert.equal(http.status, 403);
    // Creating a task in B, or taking over B's task, is refused as well.
    const create = await getJson(`${gw.url}/v1/tasks`, t.operatorA, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'x', taskId: 'b1', projectId: A.project }),
    });
    assert.equal(create.status, 403);
  });
});
