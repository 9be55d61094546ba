// RabbitMQ ingest against the real broker: order, seed 002's shapes, dead letters with codes,
// redelivery, and a gateway killed with messages in flight.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { AgentwireError } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';
import { TcpProxy } from '../testing/tcp-proxy.js';
import { SqliteEngine } from '../log/sqlite.js';
import { requireService } from '../testing/services.js';
import { DEAD_LETTER_HEADERS } from './options.js';
import { waitUntil } from '../testing/wait.js';

const url = process.env.AGENTWIRE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const skip = await requireService('RabbitMQ', url);
const redisUrl = process.env.AGENTWIRE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const skipCluster = skip ?? (await requireService('Redis', redisUrl));
const child = fileURLToPath(new URL('../testing/children/ingest-child.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'agentwire-amqp-'));

interface Names {
  exchange: string;
  queue: string;
  /** The gateway also declares the producer channel's topology when it runs AMQP; fresh too. */
  commandExchange: string;
  producerQueue: string;
}

/** Every test gets its own exchange and queues, deleted afterwards. */
function freshNames(): Names {
  const tag = randomBytes(4).toString('hex');
  return {
    exchange: `agentwire-test.${tag}.events`,
    queue: `agentwire-test.${tag}.ingest`,
    commandExchange: `agentwire-test.${tag}.events.commands`,
    producerQueue: `agentwire-test.${tag}.ingest.producers`,
  };
}

const log = (message: string) => ({ type: 'log:entry', data: { level: 'info', message } });
const step = (requestId: string, stepId: string, status: string, extra: Record<string, unknown> = {}) => ({
  type: 'executor.step.progress',
  requestId,
  agent: 'executor-agent',
  data: { stepId, stepOrder: Number(stepId.slice(1)), status, ...extra },
});

describe('RabbitMQ ingest', { skip }, () => {
  let connection: ChannelModel;
  let channel: ConfirmChannel;
  const used: Names[] = [];

  before(async () => {
    connection = await connect(url);
    channel = await connection.createConfirmChannel();
  });

  after(async () => {
    for (const n of used) {
      for (const q of [n.queue, `${n.queue}.dead`, n.producerQueue])
        await channel.deleteQueue(q).catch(() => {});
      for (const e of [n.exchange, `${n.queue}.dlx`, n.commandExchange])
        await channel.deleteExchange(e).catch(() => {});
    }
    await connection.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function gatewayOn(names: Names): Promise<Gateway> {
    used.push(names);
    return createGateway({ port: 0, logLevel: 'silent', amqp: { url, ...names } });
  }

  async function publish(
    names: Names,
    messages: { routingKey: string; body: unknown; messageId?: string }[],
  ): Promise<void> {
    for (const m of messages) {
      const content = Buffer.from(typeof m.body === 'string' ? m.body : JSON.stringify(m.body));
      channel.publish(names.exchange, m.routingKey, content, {
        persistent: true,
        contentType: 'application/json',
        ...(m.messageId !== undefined && { messageId: m.messageId }),
      });
    }
    await channel.waitForConfirms();
  }

  it("stores canonical messages and seed 002's as they are, in order", { timeout: 20_000 }, async () => {
    const names = freshNames();
    const gateway = await gatewayOn(names);
    try {
      const messages = [
        {
          routingKey: 'task:req-1',
          body: { type: 'task:start', data: { taskId: 'req-1', title: 'Plan a trip' } },
        },
        { routingKey: 'executor.step.progress', body: step('req-1', 's1', 'running', { tool: 'search' }) },
        { routingKey: 'task:req-2', body: log('other stream') },
        {
          routingKey: 'executor.step.progress',
          body: step('req-1', 's1', 'completed', { result: { hits: 3 } }),
        },
        { routingKey: 'task:req-1', body: { id: 'own-id', ...log('halfway') } },
        { routingKey: 'executor.step.progress', body: step('req-1', 's2', 'running', { tool: 'book' }) },
        { routingKey: 'executor.step.progress', body: step('req-1', 's2', 'failed', { error: 'sold out' }) },
        {
          routingKey: 'agent.completed',
          body: { type: 'agent.completed', agent: 'executor-agent', requestId: 'req-1', data: { ok: false } },
        },
        {
          routingKey: 'request.completed',
          body: { type: 'request.completed', requestId: 'req-1', result: { booked: false } },
        },
      ];
      await publish(
        names,
        messages.map((m, i) => ({ ...m, messageId: `order-${i}` })),
      );
      await waitUntil(
        async () => (await gateway.engine.head('task:req-1')).head === 8,
        'eight events in task:req-1',
      );
      const { events } = await gateway.engine.read('task:req-1', 0, 100);
      assert.deepEqual(
        events.map((e) => [e.seq, e.type]),
        [
          [1, 'task:start'],
          [2, 'tool:executing'],
          [3, 'tool:complete'],
          [4, 'log:entry'],
          [5, 'tool:executing'],
          [6, 'tool:failed'],
          [7, 'agent:complete'],
          [8, 'task:complete'],
        ],
      );
      assert.deepEqual(
        events.map((e) => e.id),
        ['order-0', 'order-1', 'order-3', 'own-id', 'order-5', 'order-6', 'order-7', 'order-8'],
      );
      assert.deepEqual(events[1]?.data, { callId: 's1', tool: 'search', agentId: 'executor-agent' });
      assert.deepEqual(events[5]?.data, {
        callId: 's2',
        agentId: 'executor-agent',
        error: { message: 'sold out' },
      });
      assert.equal((await gateway.engine.head('task:req-2')).head, 1);
    } finally {
      await gateway.close();
    }
  });

  it('dead-letters what it cannot store, with the error code, and goes on', { timeout: 20_000 }, async () => {
    const names = freshNames();
    const gateway = await gatewayOn(names);
    try {
      const refused = [
        { routingKey: 'task:t', body: '{"type": oops', code: 'bad_json' },
        { routingKey: 'task:t', body: { type: 'tool:nope', data: {} }, code: 'unknown_event_type' },
        {
          routingKey: 'task:t',
          body: { type: 'log:entry', data: { level: 'loud' } },
          code: 'invalid_payload',
        },
        { routingKey: 'nowhere.in.particular', body: log('no stream'), code: 'invalid_stream' },
        { routingKey: 'executor.step.progress', body: step('r', 's1', 'paused'), code: 'unknown_event_type' },
      ];
      await publish(names, [...refused, { routingKey: 'task:t', body: log('after the bad ones') }]);
      await waitUntil(async () => (await gateway.engine.head('task:t')).head === 1, 'the valid message');
      const dead = `${names.queue}.dead`;
      await waitUntil(
        async () => (await channel.checkQueue(dead)).messageCount === refused.length,
        'the dead letters',
      );
      for (const want of refused) {
        const got = await channel.get(dead, { noAck: true });
        assert.ok(got, 'a dead letter');
        const headers = got.properties.headers ?? {};
        assert.equal(headers[DEAD_LETTER_HEADERS.code], want.code);
        assert.equal(typeof headers[DEAD_LETTER_HEADERS.message], 'string');
        assert.equal(headers[DEAD_LETTER_HEADERS.routingKey], want.routingKey);
        assert.equal(got.fields.routingKey, want.routingKey);
        const body = typeof want.body === 'string' ? want.body : JSON.stringify(want.body);
        assert.equal(got.content.toString(), body, 'the message is kept as it was sent');
      }
      assert.equal((await channel.checkQueue(names.queue)).messageCount, 0, 'nothing left unacknowledged');
    } finally {
      await gateway.close();
    }
  });

  it('stores a redelivered message once, by message id or by content', { timeout: 20_000 }, async () => {
    const names = freshNames();
    const gateway = await gatewayOn(names);
    try {
      const seedMessage = { routingKey: 'executor.step.progress', body: step('dup', 's1', 'running') };
      await publish(names, [
        { routingKey: 'task:dup', body: log('one'), messageId: 'm-1' },
        { routingKey: 'task:dup', body: log('one, sent again'), messageId: 'm-1' },
        seedMessage,
        seedMessage,
        { routingKey: 'task:dup', body: log('last'), messageId: 'm-last' },
      ]);
      await waitUntil(
        async () => (await gateway.engine.read('task:dup', 0, 10)).events.some((e) => e.id === 'm-last'),
        'the last message',
      );
      const { events } = await gateway.engine.read('task:dup', 0, 10);
      assert.deepEqual(
        events.map((e) => e.type),
        ['log:entry', 'tool:executing', 'log:entry'],
      );
      assert.deepEqual(events[0]?.data, { level: 'info', message: 'one' }, 'the first copy is kept');
    } finally {
      await gateway.close();
    }
  });

  it(
    'keeps a stream in publish order when several gateway nodes consume one queue',
    { skip: skipCluster, timeout: 20_000 },
    async () => {
      const names = freshNames();
      used.push(names);
      const prefix = `agentwire-test:amqp-${randomBytes(4).toString('hex')}:`;
      const nodes = await Promise.all(
        [0, 1].map(() =>
          createGateway({
            port: 0,
            logLevel: 'silent',
            engine: { kind: 'redis', url: redisUrl, prefix },
            amqp: { url, ...names },
          }),
        ),
      );
      try {
        const ids = Array.from({ length: 300 }, (_, i) => `ordered-${i}`);
        await publish(
          names,
          ids.map((id) => ({ routingKey: 'task:ordered', body: log(id), messageId: id })),
        );
        await waitUntil(
          async () => (await nodes[1]!.engine.head('task:ordered')).head === ids.length,
          'every message',
        );
        const { events } = await nodes[0]!.engine.read('task:ordered', 0, 1000);
        assert.deepEqual(
          events.map((e) => e.id),
          ids,
        );
      } finally {
        await Promise.all(nodes.map((n) => n.close()));
        const redis = new Redis(redisUrl);
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
    },
  );

  it(
    'loses and doubles nothing when the gateway is killed with messages in flight',
    { timeout: 30_000 },
    async () => {
      const names = freshNames();
      used.push(names);
      const path = join(root, 'crash', 'log.db');
      const total = 1500;
      const streams = ['task:crash-a', 'task:crash-b', 'task:crash-c'];
      const messages = Array.from({ length: total }, (_, i) => ({
        routingKey: streams[i % streams.length]!,
        body: log(`n=${i}`),
        messageId: `crash-${i}`,
      }));

      const stored = (): number => {
        const db = new Database(path, { readonly: true, fileMustExist: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
        } finally {
          db.close();
        }
      };

      const first = await startChild(path, names);
      try {
        await publish(names, messages);
        await waitUntil(() => stored() >= total / 3, 'a third of the messages stored');
      } finally {
        await kill(first);
      }
      const afterKill = stored();
      assert.ok(afterKill < total, `the first gateway died with work left (${afterKill} of ${total} stored)`);

      const second = await startChild(path, names);
      try {
        await waitUntil(() => stored() === total, 'every message stored after the restart');
        await waitUntil(
          async () => (await channel.checkQueue(names.queue)).messageCount === 0,
          'the queue drained',
        );
      } finally {
        await kill(second);
      }

      const engine = new SqliteEngine({ path });
      try {
        const ids: string[] = [];
        for (const stream of streams) {
          const { events, head } = await engine.read(stream, 0, total);
          assert.deepEqual(
            events.map((e) => e.seq),
            Array.from({ length: head }, (_, i) => i + 1),
            `${stream} has no gap`,
          );
          ids.push(...events.map((e) => e.id));
        }
        assert.equal(ids.length, total, 'every message stored exactly once');
        assert.deepEqual(new Set(ids), new Set(messages.map((m) => m.messageId)));
      } finally {
        await engine.close();
      }
      assert.equal((await channel.checkQueue(`${names.queue}.dead`)).messageCount, 0);
    },
  );
});

describe('RabbitMQ unreachable', { skip }, () => {
  let connection: ChannelModel;
  let channel: ConfirmChannel;
  const used: Names[] = [];
  before(async () => {
    connection = await connect(url);
    channel = await connection.createConfirmChannel();
  });
  after(async () => {
    for (const n of used) {
      for (const q of [n.queue, `${n.queue}.dead`, n.producerQueue])
        await channel.deleteQueue(q).catch(() => {});
      for (const e of [n.exchange, `${n.queue}.dlx`, n.commandExchange])
        await channel.deleteExchange(e).catch(() => {});
    }
    await connection.close();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field
  const readyz = async (gw: Gateway): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${gw.url}/readyz`);
    return { status: res.status, body: await res.json() };
  };
  const alerts = async (gw: Gateway, source: string) =>
    (await gw.engine.read('system', 0, 100)).events
      .filter((e) => e.type === 'system:alert')
      .map((e) => e.data as { severity: string; message: string; source: string })
      .filter((a) => a.source === source);

  it('fails the start with a typed error when the broker is at a closed port', async () => {
    const closed = await TcpProxy.start(url);
    const port = closed.port;
    await closed.close();
    await assert.rejects(
      createGateway({
        port: 0,
        logLevel: 'silent',
        amqp: { url: `amqp://guest:secret@127.0.0.1:${port}`, ...freshNames() },
      }),
      (err: unknown) => {
        assert.ok(err instanceof AgentwireError);
        assert.equal(err.code, 'unavailable');
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        assert.doesNotMatch(err.message, /secret/);
        return true;
      },
    );
  });

  it(
    'is not ready while the consumer is detached (the broker gone from its port), and ready again once it is back',
    { timeout: 40_000 },
    async () => {
      const names = freshNames();
      used.push(names);
      let proxy = await TcpProxy.start(url);
      const port = proxy.port;
      const gw = await createGateway({
        port: 0,
        logLevel: 'silent',
        amqp: { url: `amqp://guest:guest@127.0.0.1:${port}`, ...names },
      });
      try {
        assert.deepEqual((await readyz(gw)).body.checks.amqp, { ok: true });
        await proxy.close();
        let answer = await readyz(gw);
        await waitUntil(async () => (answer = await readyz(gw)).status === 503, 'readiness to fail');
        assert.equal(answer.body.checks.amqp.ok, false);
        assert.equal(typeof answer.body.checks.amqp.cause, 'string');
        assert.deepEqual(answer.body.checks.log, undefined, 'the memory log has nothing to fail');
        assert.match(answer.body.error.message, /amqp/);
        assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
        // The log still works, so the watchers hear of it on the system stream.
        await waitUntil(
          async () => (await alerts(gw, 'agentwire:amqp')).some((a) => a.severity === 'critical'),
          'a critical alert',
        );

        proxy = await TcpProxy.start(url, port);
        await waitUntil(async () => (await readyz(gw)).status === 200, 'readiness to return', 30_000);
        assert.ok((await alerts(gw, 'agentwire:amqp')).some((a) => a.severity === 'info'));
        // And it consumes again.
        channel.publish(names.exchange, 'task:back', Buffer.from(JSON.stringify(log('back'))), {
          persistent: true,
          messageId: 'back-1',
        });
        await channel.waitForConfirms();
        await waitUntil(async () => (await gw.engine.head('task:back')).head === 1, 'the message stored');
      } finally {
        await gw.close();
        await proxy.close();
      }
    },
  );

  it(
    'requeues, never dead-letters, what the log cannot store while its storage fails, and stores it after',
    { timeout: 40_000 },
    async () => {
      const names = freshNames();
      used.push(names);
      const path = join(root, 'locked', 'log.db');
      const engine = new SqliteEngine({ path, busyTimeoutMs: 20 });
      const gw = await createGateway({
        port: 0,
        logLevel: 'silent',
        engine: { kind: 'custom', engine },
        amqp: { url, ...names },
      });
      // Another process holding the write lock: every commit fails with SQLITE_BUSY meanwhile.
      const blocker = new Database(path);
      blocker.exec('BEGIN IMMEDIATE');
      let locked = true;
      try {
        channel.publish(names.exchange, 'task:locked', Buffer.from(JSON.stringify(log('held'))), {
          persistent: true,
          messageId: 'locked-1',
        });
        await channel.waitForConfirms();
        await waitUntil(() => engine.health.fault !== undefined, 'the storage failure');
        assert.equal(engine.health.fault?.cause, 'SQLITE_BUSY');
        assert.equal((await readyz(gw)).body.checks.log.cause, 'SQLITE_BUSY');
        blocker.exec('ROLLBACK');
        locked = false;
        await waitUntil(async () => (await gw.engine.head('task:locked')).head === 1, 'the message stored');
        assert.equal((await channel.checkQueue(`${names.queue}.dead`)).messageCount, 0);
        await waitUntil(async () => (await readyz(gw)).status === 200, 'readiness to return');
      } finally {
        if (locked) blocker.exec('ROLLBACK');
        blocker.close();
        await gw.close();
      }
    },
  );
});

async function startChild(path: string, names: Names): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [child, path, url, names.exchange, names.queue], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`the gateway child exited (code ${code}): ${stderr}`)));
  });
  return proc;
}

async function kill(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
}
