/**
 * `client.watchTasks` against the real gateway on each transport: the window, its live updates,
 * moving it, a refused query, and coming back after the connection is lost.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { taskStream, type AnyEventInput } from '@agentwire/protocol';
import { createGateway, type Gateway } from '@agentwire/server';
import { createClient, type Client, type TaskList } from './index.js';
import type { TransportKind } from './transport.js';
import { until } from './testing/scripted-server.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

const start = (taskId: string, projectId: string): AnyEventInput => ({
  type: 'task:start',
  data: { taskId, title: `Task ${taskId}`, projectId },
});

async function gateway(): Promise<Gateway> {
  const gw = await createGateway({ port: 0, logLevel: 'silent', taskList: { intervalMs: 20 } });
  cleanups.push(() => gw.close());
  for (let i = 0; i < 40; i++) {
    const id = `k${String(i).padStart(2, '0')}`;
    await gw.publish(taskStream(id), [start(id, i % 4 === 0 ? 'quarter' : 'rest')]);
  }
  return gw;
}

function client(url: string, transport: TransportKind): Client {
  const c = createClient({ url, transports: [transport], reconnect: { minDelayMs: 5, maxDelayMs: 50 } });
  cleanups.push(() => c.close());
  return c;
}

const ids = (list: TaskList) => list.view.rows.map((r) => r.taskId);

for (const transport of ['websocket', 'sse', 'polling'] as const) {
  describe(`client.watchTasks over ${transport}`, () => {
    it('follows a window of the list, moves it, and follows changes', async () => {
      const gw = await gateway();
      const c = client(gw.url, transport);
      const list = c.watchTasks({ query: { project: 'quarter' }, limit: 3 });
      await until(() => list.view.loaded, 'the first window');
      assert.deepEqual(ids(list), ['k36', 'k32', 'k28']);
      assert.equal(list.view.total, 10);
      assert.throws(() => c.watchTasks(), /already watches/);

      await gw.publish('task:k32', [{ type: 'task:complete', data: {} }]);
      await until(() => list.view.rows[1]?.status === 'completed', 'the change');

      list.update({ offset: 8 });
      assert.equal(list.view.loaded, false);
      await until(() => list.view.loaded, 'the moved window');
      assert.deepEqual(ids(list), ['k04', 'k00']);
      assert.equal(list.view.offset, 8);

      list.update({ query: { project: 'quarter', status: 'completed' }, offset: 0 });
      await until(() => list.view.loaded, 'the filtered window');
      assert.deepEqual(ids(list), ['k32']);

      // A query the gateway would refuse is refused here first, with the same typed error.
      assert.throws(
        () => list.update({ query: { project: 'x'.repeat(200) } }),
        (err: { code?: string }) => err.code === 'invalid_message',
      );
      list.close();
      const again = c.watchTasks({ limit: 1 });
      await until(() => again.view.loaded, 'a new list after closing the old one');
      assert.deepEqual(ids(again), ['k39']);
    });
  });
}

describe('client.watchTasks across a lost connection', () => {
  it('asks for its window again and shows what changed meanwhile', async () => {
    const gw = await gateway();
    const c = client(gw.url, 'websocket');
    const list = c.watchTasks({ limit: 2 });
    await until(() => list.view.loaded, 'the first window');
    const statuses: string[] = [];
    c.on('status', (s) => statuses.push(s));
    // The gateway goes away and comes back on the same port, with another history.
    await gw.close();
    await until(() => statuses.includes('offline'), 'the disconnect');
    const next = await createGateway({ port: gw.port, logLevel: 'silent', taskList: { intervalMs: 20 } });
    cleanups.push(() => next.close());
    await next.publish('task:fresh', [start('fresh', 'rest')]);
    await until(() => ids(list)[0] === 'fresh', 'the list on the new gateway');
    assert.equal(list.view.total, 1);
  });
});
