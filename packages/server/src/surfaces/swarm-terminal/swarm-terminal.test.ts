import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { AgentwireError } from '@agentwire/protocol';
import WebSocket from 'ws';
import { createGateway, type Gateway } from '../../gateway.js';
import type { SwarmMessage } from './swarm-dialect.js';
import { waitUntil } from '../../testing/wait.js';

type Frame =
  SwarmMessage | { type: 'batch'; messages: SwarmMessage[] } | { type: string; [k: string]: unknown };

/** The terminal's `new WebSocket(getWebSocketUrl(projectId))`, with `ws` standing in for the browser's. */
class Terminal {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as Frame));
    ws.on('close', (code) => (this.closeCode = code));
  }

  static async open(gw: Gateway, projectId: string, query = '?token=jwt-abc'): Promise<Terminal> {
    const ws = new WebSocket(`${gw.url.replace(/^http/, 'ws')}/ws/admin/agent-swarm/${projectId}${query}`);
    const t = new Terminal(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return t;
  }

  /** Every message, batches unpacked, in arrival order. */
  messages(): SwarmMessage[] {
    return this.frames.flatMap((f) =>
      f.type === 'batch' ? (f as { messages: SwarmMessage[] }).messages : [f as SwarmMessage],
    );
  }

  until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
    return waitUntil(
      condition,
      () => `frames; got ${JSON.stringify(this.frames.map((f) => f.type))}`,
      timeoutMs,
    );
  }
}

const data = (m: SwarmMessage) => m.data;

describe('swarm-terminal dialect (seed 004), a project id mapped to one task (--swarm-stream task:{projectId})', () => {
  let gw: Gateway;
  let aw: Producer;
  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent', swarmTerminal: { stream: 'task:{projectId}' } });
    aw = connect({ url: gw.url });
  });
  after(async () => {
    await aw.close();
    await gw.close();
  });

  it('sends connection_established, then live messages, and a batch when several are ready at once', async () => {
    const term = await Terminal.open(gw, 'proj-1');
    await term.until(() => term.frames.length === 1);
    const hello = term.frames[0] as SwarmMessage;
    assert.equal(hello.type, 'connection_established');
    assert.equal(hello.projectId, 'proj-1');
    assert.deepEqual(
      { ...hello.data, epoch: 'e' },
      {
        stream: 'task:proj-1',
        epoch: 'e',
        seq: 0,
        recovered: true,
        status: 'pending',
        transport: 'websocket',
      },
    );

    const task = await aw.startTask({
      taskId: 'proj-1',
      title: 'Build the site',
      stages: ['plan', 'build'],
      estimatedMs: 300_000,
    });
    await task.stage('plan', 'Planning');
    const agent = await task.spawnAgent({ name: 'architect', model: 'gpt-4o', agentId: 'arch' });
    await agent.progress({ status: 'thinking', percent: 20 });
    await agent.tool('read_repo', { path: '/' }, async () => 'ok', { callId: 'c1' });
    // A burst: whatever the SDK sends in one request commits together and arrives as one batch.
    await aw.publish(task.stream, [
      { type: 'log:entry', data: { level: 'info', message: 'step 1', agentId: 'arch' } },
      { type: 'log:entry', data: { level: 'warn', message: 'step 2' } },
      { type: 'task:progress', data: { percent: 60, message: 'Building' } },
    ]);
    await agent.complete({ files: 3 }, { summary: 'designed' });
    await task.complete({ url: 'https://example.test' });
    await term.until(() => term.messages().some((m) => m.type === 'project_completed'));

    const batches = term.frames.filter((f) => f.type === 'batch') as { messages: SwarmMessage[] }[];
    assert.ok(batches.length > 0, 'the burst arrived batched');
    for (const batch of batches) assert.ok(batch.messages.length > 1, 'a single message is never wrapped');
    // The SDK sends a burst's first event at once and the rest in one request: those two commit
    // together, so they always share a batch (which may hold more, if more was ready).
    const shared = batches.find((b) => b.messages.some((m) => m.data.message === 'step 2'));
    assert.ok(shared?.messages.some((m) => m.data.message === 'Building'));
    const live = term.messages().slice(1);
    assert.deepEqual(
      live.map((m) => m.type),
      [
        'project_started',
        'workflow_stage_update',
        'agent_status_update',
        'agent_status_update',
        'workflow_log',
        'workflow_log',
        'workflow_log',
        'workflow_log',
        'project_progress',
        'agent_status_update',
        'project_completed',
      ],
    );
    assert.ok(live.every((m) => m.projectId === 'proj-1' && /^\d{4}-\d\d-\d\dT/.test(m.timestamp)));
    assert.deepEqual(
      live.map((m) => m.seq),
      live.map((_, i) => i + 1),
    );
    assert.deepEqual(data(live[0]!), {
      taskId: 'proj-1',
      title: 'Build the site',
      stages: ['plan', 'build'],
      estimatedMs: 300_000,
      estimatedDurationSeconds: 300,
      status: 'running',
      event: 'task:start',
    });
    assert.deepEqual(data(live[1]!), {
      stage: 'plan',
      message: 'Planning',
      stageIndex: 0,
      totalStages: 2,
      event: 'task:stage',
    });
    assert.deepEqual(data(live[2]!), {
      agentId: 'arch',
      agentName: 'architect',
      model: 'gpt-4o',
      status: 'spawned',
      event: 'agent:spawned',
    });
    assert.deepEqual(data(live[3]!), {
      agentId: 'arch',
      agentName: 'architect',
      model: 'gpt-4o',
      status: 'running',
      detail: 'thinking',
      percent: 20,
      event: 'agent:progress',
    });
    assert.deepEqual(data(live[4]!), {
      level: 'info',
      message: 'architect → read_repo',
      agentId: 'arch',
      agentName: 'architect',
      tool: 'read_repo',
      callId: 'c1',
      event: 'tool:executing',
    });
    assert.match(String(data(live[5]!).message), /^architect read_repo completed in \d+ ms$/);
    assert.deepEqual(data(live[6]!), {
      level: 'info',
      message: 'step 1',
      agentId: 'arch',
      agentName: 'architect',
      event: 'log:entry',
    });
    assert.deepEqual(data(live[8]!), {
      progress: 60,
      percent: 60,
      message: 'Building',
      event: 'task:progress',
    });
    assert.deepEqual(data(live[9]!), {
      agentId: 'arch',
      agentName: 'architect',
      status: 'completed',
      summary: 'designed',
      result: { files: 3 },
      event: 'agent:complete',
    });
    const done = data(live[10]!);
    assert.equal(typeof done.durationMs, 'number');
    assert.deepEqual(
      { ...done, durationMs: 0 },
      { status: 'completed', result: { url: 'https://example.test' }, durationMs: 0, event: 'task:complete' },
    );
    term.ws.close();
  });

  it('a terminal opened mid-project gets the snapshot as one batch, and failures as project_error', async () => {
    const task = await aw.startTask({ taskId: 'proj-2', title: 'Migrate' });
    const agent = await task.spawnAgent({ name: 'migrator', agentId: 'mig' });
    await agent.log('info', 'copying tables');
    const term = await Terminal.open(gw, 'proj-2');
    await term.until(() => term.frames.length === 2);
    assert.equal(term.frames[0]!.type, 'connection_established');
    assert.equal((term.frames[0] as SwarmMessage).data.status, 'running');
    const snapshot = term.frames[1] as { type: string; messages: SwarmMessage[] };
    assert.equal(snapshot.type, 'batch');
    assert.deepEqual(
      snapshot.messages.map((m) => [m.type, m.replay, m.data.agentName ?? m.data.title]),
      [
        ['project_started', true, 'Migrate'],
        ['agent_status_update', true, 'migrator'],
        ['workflow_log', true, 'migrator'],
      ],
    );
    await task.fail(new Error('table locked'));
    await term.until(() => term.messages().some((m) => m.type === 'project_error'));
    assert.deepEqual(data(term.messages().at(-1)!), {
      status: 'failed',
      error: 'table locked',
      reason: 'error',
      event: 'task:failed',
    });
    term.ws.close();
  });

  it('the polling fallback serves the same messages after a seq, and the snapshot without one', async () => {
    const term = await Terminal.open(gw, 'proj-3');
    const task = await aw.startTask({ taskId: 'proj-3', title: 'Poll me' });
    const agent = await task.spawnAgent({ name: 'poller' });
    for (let i = 0; i < 5; i++) await agent.log('info', `line ${i}`);
    await task.complete();
    await term.until(() => term.messages().some((m) => m.type === 'project_completed'));
    const live = term.messages().slice(1);

    const base = `${gw.url}/v1/public/agent-swarms/proj-3/messages`;
    const first = await fetch(`${base}?after=0&limit=4&token=jwt-abc`);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('access-control-allow-origin'), '*');
    const page1 = (await first.json()) as {
      messages: SwarmMessage[];
      next: number;
      more: boolean;
      reset: boolean;
      status: string;
    };
    assert.deepEqual([page1.next, page1.more, page1.reset, page1.status], [4, true, false, 'completed']);
    const page2 = (await (await fetch(`${base}?after=${page1.next}`)).json()) as typeof page1;
    assert.deepEqual([page2.next, page2.more], [8, false]);
    assert.deepEqual(
      [...page1.messages, ...page2.messages],
      live,
      'polling and the WebSocket agree message for message',
    );
    const idle = (await (await fetch(`${base}?after=8`)).json()) as typeof page1;
    assert.deepEqual([idle.messages, idle.next, idle.more], [[], 8, false]);

    const snapshot = (await (await fetch(base)).json()) as typeof page1;
    assert.equal(snapshot.reset, true);
    assert.equal(snapshot.next, 8);
    assert.deepEqual(
      snapshot.messages.map((m) => m.type),
      [
        'project_started',
        'project_progress',
        'agent_status_update',
        ...Array(5).fill('workflow_log'),
        'project_completed',
      ],
    );
    const stale = (await (await fetch(`${base}?after=3&epoch=another-epoch`)).json()) as typeof page1;
    assert.equal(stale.reset, true);

    const bad = await fetch(`${base}?after=-1`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_since');
    assert.equal((await fetch(`${base}`, { method: 'POST' })).status, 405);
    const preflight = await fetch(base, { method: 'OPTIONS' });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.equal((await fetch(`${gw.url}/v1/public/agent-swarms/bad%20id/messages`)).status, 400);
    term.ws.close();
  });

  it('resumes exactly with ?after=<seq>, answers ping, and refuses bad frames with typed errors', async () => {
    const task = await aw.startTask({ taskId: 'proj-4', title: 'Resume' });
    await task.log('info', 'one');
    await task.log('info', 'two');
    const { epoch } = await gw.engine.head('task:proj-4');
    const term = await Terminal.open(gw, 'proj-4', `?token=t&after=2&epoch=${epoch}`);
    await term.until(() => term.frames.length === 2);
    assert.deepEqual((term.frames[0] as SwarmMessage).data.recovered, true);
    assert.deepEqual([term.frames[1]!.type, (term.frames[1] as SwarmMessage).seq], ['workflow_log', 3]);
    term.ws.send(JSON.stringify({ type: 'ping' }));
    term.ws.send('not json');
    term.ws.send(JSON.stringify({ type: 'subscribe' }));
    await term.until(() => term.frames.length === 5);
    assert.deepEqual(
      term.frames.slice(2).map((f) => [f.type, (f as { code?: string }).code]),
      [
        ['pong', undefined],
        ['error', 'bad_json'],
        ['error', 'unknown_op'],
      ],
    );
    term.ws.close();
  });

  it('closes with 4401 when the token verifier refuses, and maps projects to their project stream by default', async () => {
    const strict = await createGateway({
      port: 0,
      logLevel: 'silent',
      verifyDialectToken: (token) => {
        if (token !== 'good') throw new AgentwireError('unauthorized', 'Bad token.');
        return { subject: 'admin-1', token };
      },
    });
    try {
      const refused = await Terminal.open(strict, 'p9', '?token=bad');
      await refused.until(() => refused.closeCode !== undefined);
      assert.equal(refused.closeCode, 4401);
      assert.equal(refused.frames.length, 0);
      const polled = await fetch(`${strict.url}/v1/public/agent-swarms/p9/messages`, {
        headers: { authorization: 'Bearer bad' },
      });
      assert.equal(polled.status, 401);

      const ok = await Terminal.open(strict, 'p9', '?token=good');
      await ok.until(() => ok.frames.length === 1);
      assert.equal((ok.frames[0] as SwarmMessage).data.stream, 'project:p9');
      await strict.publish('project:p9', [
        { type: 'log:entry', data: { level: 'info', message: 'project-wide' } },
      ]);
      await ok.until(() => ok.frames.length === 2);
      assert.equal((ok.frames[1] as SwarmMessage).data.message, 'project-wide');
      const byHeader = await fetch(`${strict.url}/v1/public/agent-swarms/p9/messages?after=0`, {
        headers: { authorization: 'Bearer good' },
      });
      assert.equal(((await byHeader.json()) as { messages: unknown[] }).messages.length, 1);
      ok.ws.close();
    } finally {
      await strict.close();
    }
  });
});

describe('swarm-terminal dialect (seed 004): a project id shows every live task of that project', () => {
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

  it('draws the live tasks on connect, then each task live, tagged with its task id', async () => {
    const done = await aw.startTask({ taskId: 'acme-done', title: 'Finished', projectId: 'acme' });
    await done.complete();
    const first = await aw.startTask({ taskId: 'acme-1', title: 'Research', projectId: 'acme' });
    const researcher = await first.spawnAgent({ name: 'researcher', agentId: 'r' });
    await researcher.log('info', 'reading papers');
    // Another project's task never shows.
    const other = await aw.startTask({ taskId: 'globex-1', title: 'Elsewhere', projectId: 'globex' });

    const term = await Terminal.open(gw, 'acme');
    await term.until(() => term.frames.length === 2);
    const hello = term.frames[0] as SwarmMessage;
    assert.equal(hello.data.stream, 'project:acme');
    assert.equal(hello.data.status, 'running');
    const replay = (term.frames[1] as { messages: SwarmMessage[] }).messages;
    assert.deepEqual(
      replay.map((m) => [m.type, m.replay, m.data.taskId]),
      [
        ['project_started', true, 'acme-1'],
        ['agent_status_update', true, 'acme-1'],
        ['workflow_log', true, 'acme-1'],
      ],
      'the running task, not the finished one',
    );

    const second = await aw.startTask({ taskId: 'acme-2', title: 'Write', projectId: 'acme' });
    const writer = await second.spawnAgent({ name: 'writer', agentId: 'w' });
    await writer.log('info', 'drafting');
    await researcher.log('info', 'found one');
    await other.log('info', 'not for acme');
    await second.complete();
    await term.until(() => term.messages().some((m) => m.type === 'project_completed'));
    const live = term.messages().slice(1 + replay.length);
    assert.deepEqual(
      live.map((m) => [m.type, m.data.taskId, m.data.agentName ?? m.data.title ?? null]),
      [
        ['project_started', 'acme-2', 'Write'],
        ['agent_status_update', 'acme-2', 'writer'],
        ['workflow_log', 'acme-2', 'writer'],
        ['workflow_log', 'acme-1', 'researcher'],
        ['project_completed', 'acme-2', null],
      ],
    );
    // Each message carries the project stream's seq: consecutive, what polling resumes after.
    const seqs = live.map((m) => m.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => seqs[0]! + i),
    );

    // The polling fallback serves the same messages after a seq, and the live tasks without one.
    const base = `${gw.url}/v1/public/agent-swarms/acme/messages`;
    const polled = (await (await fetch(`${base}?after=${seqs[0]! - 1}`)).json()) as {
      messages: SwarmMessage[];
      reset: boolean;
      status: string;
    };
    assert.equal(polled.reset, false);
    assert.deepEqual(polled.messages, live);
    const fresh = (await (await fetch(base)).json()) as typeof polled;
    assert.equal(fresh.reset, true);
    assert.deepEqual(
      [...new Set(fresh.messages.map((m) => m.data.taskId))],
      ['acme-1'],
      'acme-2 has completed; acme-1 still runs',
    );
    term.ws.close();
  });

  it('resumes a project terminal exactly with ?after=<seq>', async () => {
    const task = await aw.startTask({ taskId: 'res-1', title: 'Resume', projectId: 'resumable' });
    await task.log('info', 'one');
    const { epoch, head } = await gw.engine.head('project:resumable');
    await task.log('info', 'two');
    const term = await Terminal.open(gw, 'resumable', `?after=${head}&epoch=${epoch}`);
    await term.until(() => term.frames.length === 2);
    assert.equal((term.frames[0] as SwarmMessage).data.recovered, true);
    const next = term.frames[1] as SwarmMessage;
    assert.deepEqual(
      [next.type, next.seq, next.data.message, next.data.taskId],
      ['workflow_log', head + 1, 'two', 'res-1'],
    );
    term.ws.close();
  });
});
