import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AnyEnvelope } from '@agentwire/protocol';
import { MemoryEngine } from '../log/memory.js';
import { SnapshotService } from '../snapshots.js';
import { OWNER_UNKNOWN, TaskProjects } from './task-projects.js';

const start = (projectId: string) => ({
  id: `start-${projectId}-${Math.random()}`,
  type: 'task:start',
  data: { taskId: 't', title: 'T', projectId },
  time: Date.now(),
});
const log = () => ({
  id: `log-${Math.random()}`,
  type: 'log:entry',
  data: { level: 'info', message: 'x' },
  time: Date.now(),
});

async function setUp() {
  const engine = new MemoryEngine();
  const taskProjects = new TaskProjects(engine, new SnapshotService(engine));
  return { engine, taskProjects };
}

it("counts a run against the task's project after it, or a newer one known", async () => {
  const { engine, taskProjects } = await setUp();
  // In A, moved to B, moved back to A.
  await engine.append('task:t', [start('A'), log(), start('B'), log(), start('A'), log()]);
  const events = (await engine.read('task:t', 0, 100)).events;
  const readsA = (p: string | null) => p === 'A';
  const readsB = (p: string | null) => p === 'B';
  assert.equal(taskProjects.visibleCount('task:t', events, readsA), 6, 'A’s task is A’s whole');
  // A catch-up chunk ending in B's time: the move back to A is already known, so nothing is cut.
  assert.equal(taskProjects.visibleCount('task:t', events.slice(0, 4), readsA), 4);
  // A reader of B only: its task ends at the move back to A.
  assert.equal(taskProjects.visibleCount('task:t', events, readsB), 4);
  assert.equal(taskProjects.visibleCount('task:t', events.slice(0, 4), readsB), 4, 'moved away later');
  // A run without a task:start tells nothing about a move.
  assert.equal(taskProjects.visibleCount('task:t', events.slice(3, 4), readsB), 1);
  taskProjects.close();
});

it('cuts at a move this node has not heard of yet (another node stored it)', async () => {
  const { engine, taskProjects } = await setUp();
  await engine.append('task:u', [start('A'), log()]);
  const [first] = (await engine.read('task:u', 0, 100)).events as [AnyEnvelope];
  // What a catch-up read from a shared log returns before this node's listener hears of it.
  const later = (seq: number, type: string, data: unknown) =>
    ({ ...first, seq, id: `e${seq}`, type, data }) as AnyEnvelope;
  const run = [
    later(3, 'log:entry', { level: 'info', message: 'before' }),
    later(4, 'task:start', { taskId: 'u', title: 'T', projectId: 'B' }),
    later(5, 'log:entry', { level: 'info', message: 'after' }),
  ];
  assert.equal(
    taskProjects.visibleCount('task:u', run, (p) => p === 'A'),
    1,
  );
  taskProjects.close();
});

it('answers ownerAt without reading once the owner is known', async () => {
  const { engine, taskProjects } = await setUp();
  await engine.append('task:w', [log(), log()]);
  assert.equal(taskProjects.ownerAtIfKnown('task:w', 2), OWNER_UNKNOWN, 'never read');
  assert.equal(await taskProjects.ownerAt('task:w', 2), null, 'a task of no project');
  assert.equal(taskProjects.ownerAtIfKnown('task:w', 2), null);
  await engine.append('task:w', [start('A'), log()]);
  assert.equal(taskProjects.ownerAtIfKnown('task:w', 2), OWNER_UNKNOWN, 'before the move: read');
  assert.equal(taskProjects.ownerAtIfKnown('task:w', 4), 'A');
  assert.equal(await taskProjects.ownerAt('task:w', 2), null);
  taskProjects.close();
});

it('reads a task’s history once for concurrent owner lookups', async () => {
  const { engine, taskProjects } = await setUp();
  await engine.append('task:x', [start('A'), log()]);
  let reads = 0;
  const read = engine.read.bind(engine);
  engine.read = (stream, after, limit) => {
    reads++;
    return read(stream, after, limit);
  };
  const fresh = new TaskProjects(engine, new SnapshotService(engine));
  assert.deepEqual(await Promise.all([fresh.owner('task:x'), fresh.owner('task:x')]), ['A', 'A']);
  assert.equal(reads, 1, 'one read of a two-event history');
  assert.equal(await fresh.owner('task:x'), 'A');
  assert.equal(reads, 1, 'then known');
  fresh.close();
  taskProjects.close();
});
