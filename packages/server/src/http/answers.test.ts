import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CommandAnswerSchema,
  ErrorAnswerSchema,
  HealthAnswerSchema,
  HistoryPageSchema,
  PollAnswerSchema,
  PRODUCER_PROTOCOL_VERSION,
  PublishResultSchema,
  ReadinessAnswerSchema,
  StatsAnswerSchema,
  StreamHeadSchema,
  TaskAnswerSchema,
  TaskCreatedSchema,
  TaskListPageSchema,
  type GatewayOp,
  type ProducerPortConnection,
} from '@agentwire/protocol';
import type { TSchema } from '@sinclair/typebox';
import { createGateway, type Gateway } from '../gateway.js';
import { matchesSchema } from '../testing/index.js';

/**
 * Every JSON answer of the HTTP API, from a real gateway over real sockets, against the schema
 * @agentwire/protocol publishes for it: the contract clients are written against is the one the
 * gateway keeps.
 */
describe('HTTP answers match the protocol schemas', () => {
  let gw: Gateway;
  let worker: ProducerPortConnection;
  const answer = async (schema: TSchema, status: number, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body !== undefined && {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    });
    const json = (await res.json()) as unknown;
    assert.equal(res.status, status, `${path}: ${JSON.stringify(json)}`);
    matchesSchema(schema, json, `${body === undefined ? 'GET' : 'POST'} ${path}`);
    return json;
  };

  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent' });
    // A worker in the same process: it starts the tasks of kind `echo` it is handed.
    let welcome = () => {};
    const welcomed = new Promise<void>((resolve) => (welcome = resolve));
    worker = gw.connectProducer((op: GatewayOp) => {
      if (op.op === 'welcome') welcome();
      if (op.op !== 'command' || op.command.type !== 'start') return;
      const { id, command } = op;
      void gw
        .publish(command.stream, [
          { type: 'task:start', data: { taskId: command.taskId, title: command.title } },
        ])
        .then((r) => worker.send({ op: 'ack', id, result: { seq: r.results[0]!.seq } }));
    });
    worker.send({
      op: 'hello',
      version: PRODUCER_PROTOCOL_VERSION,
      producerId: 'answers-worker',
      kinds: ['echo'],
    });
    await welcomed;
  });
  after(async () => {
    worker.close();
    await gw.close();
  });

  it('health, readiness and stats', async () => {
    await answer(HealthAnswerSchema, 200, '/healthz');
    await answer(ReadinessAnswerSchema, 200, '/readyz');
    const stats = (await answer(StatsAnswerSchema, 200, '/v1/stats')) as { engine: string };
    assert.equal(stats.engine, 'memory');
  });

  it('publish, stream head, history and poll', async () => {
    const stream = 'task:answers-1';
    await answer(PublishResultSchema, 200, `/v1/streams/${stream}/events`, {
      events: [
        { id: 'a1', type: 'task:start', data: { taskId: 'answers-1', title: 'Answers' } },
        { type: 'log:entry', data: { level: 'info', message: 'one' } },
      ],
    });
    await answer(StreamHeadSchema, 200, `/v1/streams/${stream}`);
    const page = (await answer(HistoryPageSchema, 200, `/v1/streams/${stream}/events?after=0`)) as {
      events: unknown[];
    };
    assert.equal(page.events.length, 2);
    await answer(PollAnswerSchema, 200, `/v1/streams/${stream}/poll?after=0&wait=0`);
    const reset = (await answer(
      PollAnswerSchema,
      200,
      `/v1/streams/${stream}/poll?after=1&epoch=stale&wait=0&snapshot=1`,
    )) as { recovered: boolean; snapshot?: { state: unknown } };
    assert.equal(reset.recovered, false);
    assert.ok(reset.snapshot?.state, 'a stale epoch gets a snapshot of the task');
  });

  it('the task list, one task, and a task created with and without a worker', async () => {
    await answer(TaskCreatedSchema, 201, '/v1/tasks', { title: 'Direct', taskId: 'answers-2' });
    const started = (await answer(TaskCreatedSchema, 201, '/v1/tasks', {
      title: 'By a worker',
      kind: 'echo',
    })) as {
      worker?: string;
    };
    assert.equal(started.worker, 'answers-worker');
    const list = (await answer(TaskListPageSchema, 200, '/v1/tasks?limit=10')) as { tasks: unknown[] };
    assert.ok(list.tasks.length >= 2);
    await answer(TaskAnswerSchema, 200, '/v1/tasks/answers-2');
  });

  it('commands: an ack with its result', async () => {
    const ack = (await answer(CommandAnswerSchema, 200, '/v1/commands', {
      type: 'start',
      kind: 'echo',
      title: 'Over /v1/commands',
      ref: 'c1',
    })) as { ref?: string; result?: unknown };
    assert.equal(ack.ref, 'c1');
    matchesSchema(TaskCreatedSchema, ack.result, 'the result of a start command');
  });

  it('every refusal is the error answer', async () => {
    await answer(ErrorAnswerSchema, 404, '/v1/nowhere');
    await answer(ErrorAnswerSchema, 404, '/v1/tasks/never-started');
    await answer(ErrorAnswerSchema, 400, '/v1/streams/no%20spaces');
    await answer(ErrorAnswerSchema, 400, '/v1/tasks', { nope: true });
    await answer(ErrorAnswerSchema, 503, '/v1/tasks', { title: 'Nobody', kind: 'translate' });
    await answer(ErrorAnswerSchema, 400, '/v1/commands', { type: 'explode', stream: 'task:x' });
  });

  it('readiness while shutting down: not_ready with the error', async () => {
    const closing = gw.close({ drainDelayMs: 3_000 });
    try {
      const notReady = (await answer(ReadinessAnswerSchema, 503, '/readyz')) as { status: string };
      assert.equal(notReady.status, 'not_ready');
    } finally {
      await closing;
    }
  });
});
