// The live task list: the index every node keeps, its windows over the native WebSocket
// (watch_tasks), GET /v1/tasks with filters and its long-poll, and the access rules on each.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  reduceTaskEvents,
  summarize,
  taskStream,
  type AnyEnvelope,
  type AnyEventInput,
  type EventDataMap,
  type EventType,
  type TasksOp,
} from '@agentwire/protocol';
import { cast, getJson, secureGateway } from '../testing/auth-kit.js';
import { createGateway, type Gateway } from '../gateway.js';
import { requireService } from '../testing/services.js';
import { wipeRedisPrefix } from '../testing/redis.js';
import { WsProbe } from '../testing/ws-probe.js';
import { compactState } from './index-state.js';

const redisUrl = process.env.AGENTWIRE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisSkip = await requireService('Redis', redisUrl);

const start = (taskId: string, projectId?: string, title = `task ${taskId}`): AnyEventInput => ({
  type: 'task:start',
  data: { taskId, title, ...(projectId !== undefined && { projectId }) },
});
const done: AnyEventInput = { type: 'task:complete', data: { summary: 'ok' } };

/** The client's side of a watch: rows by id, rebuilt into the window from the probe's frames. */
class Window {
  private readonly rowsById = new Map<string, TasksOp['rows'][number]>();
  private readonly seen: TasksOp[] = [];
  private current: TasksOp | undefined;

  constructor(readonly probe: WsProbe) {}

  /** Applies the frames that arrived since the last look (the probe wakes waiters per frame). */
  private sync(): void {
    for (const f of this.probe.frames.slice(0)) {
      if (f.op !== 'tasks' || this.seen.includes(f)) continue;
      this.seen.push(f);
      for (const r of f.rows) this.rowsById.set(r.taskId, r);
      for (const id of this.rowsById.keys()) if (!f.order.includes(id)) this.rowsById.delete(id);
      this.current = f;
    }
  }

  get frames(): TasksOp[] {
    this.sync();
    return this.seen;
  }
  get rows(): Map<string, TasksOp['rows'][number]> {
    this.sync();
    return this.rowsById;
  }
  get order(): string[] {
    this.sync();
    return this.current?.order ?? [];
  }
  get total(): number {
    this.sync();
    return this.current?.total ?? 0;
  }

  get visible() {
    return this.order.map((id) => {
      const row = this.rows.get(id);
      assert.ok(row, `row ${id} was sent`);
      return row;
    });
  }
}

async function watch(gw: Gateway, op: Record<string, unknown>, token?: string) {
  const probe = await WsProbe.open(token ? `${gw.wsUrl}?token=${token}` : gw.wsUrl);
  const window = new Window(probe);
  probe.send({ op: 'watch_tasks', ref: 'w1', ...op });
  await probe.until(() => window.frames.length > 0);
  return { probe, window };
}

describe('the task index', () => {
  it('summarizes a task folded on a cut-down state exactly as folded in full', () => {
    const events: AnyEnvelope[] = [];
    const add = <T extends EventType>(type: T, data: EventDataMap[T]) =>
      events.push({
        stream: 'task:c',
        epoch: 'e',
        seq: events.length + 1,
        id: `e${events.length + 1}`,
        type,
        time: 1000 + events.length,
        data,
      } as AnyEnvelope);
    add('task:start', { taskId: 'c', title: 'Cut', projectId: 'p', stages: ['a', 'b'] });
    add('agent:spawned', { agentId: 'a1', name: 'one' });
    add('agent:progress', { agentId: 'a1', status: 'busy', activity: 'reading', percent: 10 });
    add('tool:executing', { callId: 'c1', tool: 'search', agentId: 'a1', args: { q: 'x'.repeat(500) } });
    add('tool:complete', { callId: 'c1', durationMs: 5, result: { hits: 'y'.repeat(500) } });
    add('tool:failed', { callId: 'c2', tool: 'fetch', error: { message: 'nope' } });
    add('question:asked', { questionId: 'q1', prompt: 'Go?', options: [{ value: 'yes' }] });
    add('message:start', { messageId: 'm1', role: 'assistant', agentId: 'a1' });
    add('message:delta', { messageId: 'm1', delta: 'hello' });
    add('log:entry', { level: 'info', message: 'z'.repeat(1000) });
    add('task:progress', { percent: 40, message: 'going' });
    add('agent:spawned', { agentId: 'a2', name: 'two' });
    add('tool:executing', { callId: 'c3', tool: 'write', agentId: 'a2' });
    add('task:cancelled', { agentId: 'a2', reason: 'not needed' });
    add('question:answered', { questionId: 'q1', answer: 'yes', by: 'ann' });
    add('task:stage', { stage: 'b', message: 'writing' });
    add('question:asked', { questionId: 'q2', prompt: 'Again?' });
    add('agent:failed', { agentId: 'a1', error: { message: 'boom' } });
    add('task:complete', { summary: 's'.repeat(2000), result: { big: true } });
    add('tool:executing', { callId: 'c4', tool: 'late' });

    let compact: ReturnType<typeof compactState> | undefined;
    for (const [i, e] of events.entries()) {
      compact = compactState(reduceTaskEvents([e], compact)!);
      const full = reduceTaskEvents(events.slice(0, i + 1))!;
      assert.deepEqual(summarize(compact), summarize(full), `after ${e.type} (seq ${e.seq})`);
    }
    assert.ok(JSON.stringify(compact).length < 1500, 'texts and results are not kept');
  });
});

describe('the live task list over the native WebSocket', () => {
  let gw: Gateway;
  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent', taskList: { intervalMs: 20 } });
    // 300 tasks in three projects, started one after another (each newer than the last).
    for (let i = 0; i < 300; i++) {
      const id = `t${String(i).padStart(3, '0')}`;
      await gw.publish(taskStream(id), [
        start(id, `p${i % 3}`, i % 50 === 0 ? `Special ${id}` : `Task ${id}`),
      ]);
    }
  });
  after(() => gw.close());

  it('sends the window, newest first, with the total, then only what changed', async () => {
    const { probe, window } = await watch(gw, { offset: 10, limit: 20 });
    const first = window.frames[0]!;
    assert.equal(first.ref, 'w1');
    assert.equal(first.total, 300);
    assert.equal(first.offset, 10);
    assert.equal(first.rows.length, 20);
    assert.deepEqual(
      window.visible.map((r) => r.taskId),
      Array.from({ length: 20 }, (_, i) => `t${String(289 - i)}`),
    );

    // A change inside the window: one row comes, the rest stay where they are.
    await gw.publish('task:t285', [done]);
    await probe.until(() => window.rows.get('t285')?.status === 'completed');
    const update = window.frames.at(-1)!;
    assert.deepEqual(
      update.rows.map((r) => r.taskId),
      ['t285'],
    );
    assert.equal(update.ref, undefined);
    // A change outside the window sends nothing; a new task shifts the window by one.
    const before = window.frames.length;
    await gw.publish('task:t005', [done]);
    await gw.publish('task:t300', [start('t300', 'p0')]);
    await probe.until(() => window.total === 301);
    assert.equal(window.frames.length, before + 1, 'the two changes went out in one frame');
    assert.equal(window.order[0], 't290');
    assert.deepEqual(
      window.frames.at(-1)!.rows.map((r) => r.taskId),
      ['t290'],
      'only the row that entered the window',
    );
    probe.close();
  });

  it('coalesces a burst of changes into frames of at most the window', async () => {
    const { probe, window } = await watch(gw, { limit: 5 });
    // Every task changes, many times: the watcher only ever gets the five rows it shows.
    const writes: Promise<unknown>[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 300; i++) {
        const id = `t${String(i).padStart(3, '0')}`;
        writes.push(
          gw.publish(taskStream(id), [{ type: 'task:progress', data: { percent: round * 20 + 1 } }]),
        );
      }
    }
    await Promise.all(writes);
    // The newest row (t300) gets no progress; the four below it end at 81 %.
    await probe.until(() => window.visible.slice(1).every((r) => r.percent === 81));
    assert.ok(
      window.frames.every((f) => f.rows.length <= 5 && f.order.length <= 5),
      'no frame holds more than the window',
    );
    // 25 of the 1,500 changes touch the five rows shown; only those can make a frame.
    assert.ok(window.frames.length <= 1 + 25, `${window.frames.length} frames`);
    probe.close();
  });

  it('filters by status, project and search on the server, and moves the window on request', async () => {
    const { probe, window } = await watch(gw, { query: { project: 'p1', search: 'SPECIAL' } });
    assert.deepEqual(
      window.visible.map((r) => r.title),
      ['Special t250', 'Special t100'],
    );
    probe.send({ op: 'watch_tasks', ref: 'w2', query: { status: 'completed' }, limit: 50 });
    await probe.until(() => window.frames.at(-1)?.ref === 'w2');
    assert.deepEqual(
      window.visible.map((r) => r.taskId),
      ['t285', 't005'],
    );
    // A task that starts matching the filter joins the window.
    await gw.publish('task:t150', [done]);
    await probe.until(() => window.total === 3);
    assert.deepEqual(
      window.visible.map((r) => r.taskId),
      ['t285', 't150', 't005'],
    );
    probe.send({ op: 'unwatch_tasks', ref: 'u' });
    await probe.waitFor('tasks_unwatched', (f) => f.ref === 'u');
    const count = window.frames.length;
    // A second watcher of the same list sees the next change; the first, unwatched, does not.
    const other = await watch(gw, { query: { status: 'completed' }, limit: 50 });
    await gw.publish('task:t151', [done]);
    await other.probe.until(() => other.window.total === 4);
    probe.send({ op: 'ping', ref: 'after' });
    await probe.waitFor('pong', (f) => f.ref === 'after');
    assert.equal(window.frames.length, count);
    other.probe.close();
    probe.close();
  });

  it('refuses a bad query with a typed error', async () => {
    const probe = await WsProbe.open(gw.wsUrl);
    probe.send({ op: 'watch_tasks', ref: 'bad', query: { status: 'sleeping' } });
    const err = await probe.waitFor('error', (f) => f.ref === 'bad');
    assert.equal(err.code, 'invalid_message');
    probe.send({ op: 'watch_tasks', ref: 'big', limit: 100_000 });
    assert.equal((await probe.waitFor('error', (f) => f.ref === 'big')).code, 'invalid_message');
    probe.close();
  });
});

describe('GET /v1/tasks', () => {
  let gw: Gateway;
  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent', taskList: { intervalMs: 20 } });
    for (let i = 0; i < 30; i++) {
      const id = `h${String(i).padStart(2, '0')}`;
      await gw.publish(taskStream(id), [start(id, i % 2 ? 'odd' : 'even')]);
    }
  });
  after(() => gw.close());

  it('pages through the filtered list with its total', async () => {
    const page = (await getJson(`${gw.url}/v1/tasks?project=odd&offset=5&limit=5`)).body;
    assert.equal(page.total, 15);
    assert.deepEqual(
      page.tasks.map((t: { taskId: string }) => t.taskId),
      ['h19', 'h17', 'h15', 'h13', 'h11'],
      'newest first; tasks started in the same millisecond by id, descending',
    );
    const search = (await getJson(`${gw.url}/v1/tasks?q=h2`)).body;
    assert.equal(search.total, 10, 'h20..h29');
    const bad = await getJson(`${gw.url}/v1/tasks?status=sleeping`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_message');
    assert.equal((await getJson(`${gw.url}/v1/tasks?wait=soon&etag=x`)).status, 400);
  });

  it('long-polls: answers when the page changes, or when the wait is over', async () => {
    const page = (await getJson(`${gw.url}/v1/tasks?project=even&limit=3`)).body;
    const waiting = getJson(`${gw.url}/v1/tasks?project=even&limit=3&wait=20&etag=${page.etag}`);
    // An unrelated change does not answer it; the next one in the page does.
    await gw.publish('task:h01', [done]);
    await gw.publish('task:h28', [done]);
    const changed = (await waiting).body;
    assert.notEqual(changed.etag, page.etag);
    assert.equal(changed.tasks[0].taskId, 'h28');
    assert.equal(changed.tasks[0].status, 'completed');
    const idle = (await getJson(`${gw.url}/v1/tasks?project=even&limit=3&wait=0.05&etag=${changed.etag}`))
      .body;
    assert.equal(idle.etag, changed.etag);
  });
});

describe('the task list and access rules', () => {
  let gw: Gateway;
  let t: Awaited<ReturnType<typeof cast>>;
  before(async () => {
    gw = await secureGateway({ taskList: { intervalMs: 20 } });
    t = await cast();
  });
  after(() => gw.close());

  it('shows a watcher only the tasks it may read, and drops a task that leaves its project', async () => {
    await gw.publish('task:a2', [start('a2', 'alpha')]);
    const { probe, window } = await watch(gw, {}, t.viewerA);
    assert.deepEqual(
      window.visible.map((r) => r.stream),
      ['task:a2', 'task:a1'],
    );
    assert.equal(window.total, 2, 'the total counts only what the watcher may see');
    // Asking for another project by filter gives nothing.
    probe.send({ op: 'watch_tasks', ref: 'beta', query: { project: 'beta' } });
    await probe.until(() => window.frames.at(-1)?.ref === 'beta');
    assert.deepEqual([window.total, window.order], [0, []]);
    probe.send({ op: 'watch_tasks', ref: 'all' });
    await probe.until(() => window.frames.at(-1)?.ref === 'all');
    // The task moves to beta: it leaves this watcher's list.
    await gw.publish('task:a2', [start('a2', 'beta')]);
    await probe.until(() => window.total === 1);
    assert.deepEqual(window.order, ['a1']);
    probe.close();
    const admin = await watch(gw, {}, t.admin);
    assert.equal(admin.window.total, 3);
    admin.probe.close();
  });
});

describe('the task list on a cluster', { skip: redisSkip ?? false }, () => {
  const prefix = `agentwire-test:tasklist-${randomBytes(6).toString('hex')}:`;
  after(() => wipeRedisPrefix(redisUrl, prefix));

  it('is the same on every node: a change committed on one node reaches a watcher on another', async () => {
    const engine = { kind: 'redis' as const, url: redisUrl, prefix };
    const a = await createGateway({ port: 0, logLevel: 'silent', engine, taskList: { intervalMs: 20 } });
    const b = await createGateway({ port: 0, logLevel: 'silent', engine, taskList: { intervalMs: 20 } });
    try {
      await a.publish('task:c1', [start('c1', 'shared')]);
      const { probe, window } = await watch(b, { query: { project: 'shared' } });
      assert.deepEqual(window.order, ['c1']);
      await a.publish('task:c2', [start('c2', 'shared')]);
      await a.publish('task:c1', [done]);
      await probe.until(() => window.total === 2 && window.rows.get('c1')?.status === 'completed');
      assert.deepEqual(window.order, ['c2', 'c1']);
      probe.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
