import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '@agentwire/agent';
import { reduceTaskEvents, taskStream, type AnyEnvelope, type TaskState } from '@agentwire/protocol';
import { createGateway } from '@agentwire/server';
import { waitFor } from '../testing/index.js';
import { startDemoWorkload } from './index.js';

interface TaskRow {
  taskId: string;
  status: string;
  projectId?: string;
  agents: number;
  tools: number;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return (await res.json()) as T;
}

test('the demo publishes into a real gateway, in-process and over HTTP, and the gateway agrees', async () => {
  const gw = await createGateway({ engine: { kind: 'memory' }, port: 0, logLevel: 'silent' });
  try {
    // Remember which tasks went in-process, to show both paths delivered complete tasks.
    const inProcessStreams = new Set<string>();
    const inProcess = connect({
      publisher: {
        publish: (stream, events) => {
          inProcessStreams.add(stream);
          return gw.publish(stream, events);
        },
      },
    });
    const overHttp = connect({ url: gw.url });
    const demos = [
      startDemoWorkload(inProcess, { concurrency: 2, speed: 30 }),
      startDemoWorkload(overHttp, { concurrency: 2, speed: 30 }),
    ];
    // Run until enough work has finished rather than for a fixed time, so a loaded machine only makes it slower.
    try {
      await waitFor(
        async () => {
          const { tasks } = await getJson<{ tasks: TaskRow[] }>(`${gw.url}/v1/tasks?limit=100`);
          const done = tasks.filter((t) => t.status === 'completed');
          const httpDone = done.filter((t) => !inProcessStreams.has(taskStream(t.taskId)));
          return (
            tasks.length >= 6 && done.length >= 3 && httpDone.length >= 1 && httpDone.length < done.length
          );
        },
        'six tasks, three completed, both in-process and over HTTP',
        90_000,
        100,
      );
    } finally {
      await Promise.all(demos.map((d) => d.stop()));
      await Promise.all([inProcess.close(), overHttp.close()]);
    }

    const { tasks } = await getJson<{ tasks: TaskRow[] }>(`${gw.url}/v1/tasks?limit=100`);
    assert.ok(tasks.length >= 6, `${tasks.length} tasks`);
    assert.ok(
      tasks.every((t) => ['completed', 'failed', 'cancelled'].includes(t.status)),
      'every task ended',
    );
    const completed = tasks.filter((t) => t.status === 'completed');
    assert.ok(completed.length >= 3, `${completed.length} completed`);
    assert.ok(completed.every((t) => t.agents >= 4 && t.tools >= 6));
    const viaHttp = completed.filter((t) => !inProcessStreams.has(taskStream(t.taskId)));
    assert.ok(
      viaHttp.length >= 1 && viaHttp.length < completed.length,
      `${viaHttp.length} of ${completed.length} via HTTP`,
    );

    for (const row of completed) {
      const stream = taskStream(row.taskId);
      const { state } = await getJson<{ state: TaskState }>(`${gw.url}/v1/tasks/${row.taskId}`);
      const history = await getJson<{ events: AnyEnvelope[] }>(
        `${gw.url}/v1/streams/${encodeURIComponent(stream)}/events?after=0&limit=1000`,
      );
      const seqs = history.events.map((e) => e.seq);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i + 1),
        'gapless, no duplicates',
      );
      assert.equal(new Set(history.events.map((e) => e.id)).size, history.events.length);
      // The snapshot the server serves equals the client-side fold of the same history.
      const folded = reduceTaskEvents(history.events)!;
      assert.equal(folded.status, state.status);
      assert.deepEqual(folded.agentOrder, state.agentOrder);
      assert.equal(state.messages[state.messageOrder.at(-1)!]!.done, true);
    }
  } finally {
    await gw.close();
  }
});
