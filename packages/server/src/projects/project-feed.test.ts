// Project streams: every event of every task of a project, copied as ingest commits it, followed
// and resumed like any stream, on every log engine and across the nodes of a Redis cluster.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AgentwireError, projectIdOf, type AnyEnvelope, type AnyEventInput } from '@agentwire/protocol';
import type { EngineConfig } from '../log/open.js';
import { createGateway, type Gateway } from '../gateway.js';
import type { LogEngine } from '../log/engine.js';
import { MemoryEngine } from '../log/memory.js';
import { requireService } from '../testing/services.js';
import { wipeRedisPrefix } from '../testing/redis.js';
import { WsProbe } from '../testing/ws-probe.js';

const redisUrl = process.env.AGENTWIRE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisSkip = await requireService('Redis', redisUrl);
const dir = mkdtempSync(join(tmpdir(), 'agentwire-projects-'));
const prefixes: string[] = [];
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!redisSkip) for (const p of prefixes) await wipeRedisPrefix(redisUrl, p);
});

const start = (taskId: string, projectId?: string): AnyEventInput => ({
  type: 'task:start',
  data: { taskId, title: `task ${taskId}`, ...(projectId !== undefined && { projectId }) },
});
const line = (message: string, id?: string): AnyEventInput => ({
  ...(id !== undefined && { id }),
  type: 'log:entry',
  data: { level: 'info', message },
});

/** The task events a project stream's events carry, in project order. */
const origins = (events: readonly AnyEnvelope[]) =>
  events.map((e) => {
    assert.equal(e.type, 'project:event');
    return e.data as unknown as AnyEnvelope;
  });

async function follow(gw: Gateway, stream: string, since?: { epoch: string; seq: number }) {
  const probe = await WsProbe.open(gw.wsUrl);
  probe.send({ op: 'subscribe', stream, since: since ?? { seq: 0 }, ref: 's' });
  await probe.waitFor('subscribed', (f) => f.stream === stream);
  return probe;
}

const engines: Array<{ name: string; config: () => EngineConfig; skip?: string }> = [
  { name: 'memory', config: () => ({ kind: 'memory' }) },
  {
    name: 'sqlite',
    config: () => ({ kind: 'sqlite', path: join(dir, `${randomBytes(4).toString('hex')}.db`) }),
  },
  {
    name: 'redis',
    skip: redisSkip,
    config: () => {
      const prefix = `agentwire-test:projects-${randomBytes(6).toString('hex')}:`;
      prefixes.push(prefix);
      return { kind: 'redis', url: redisUrl, prefix };
    },
  },
];

for (const engine of engines) {
  describe(`project streams (${engine.name})`, { skip: engine.skip ?? false }, () => {
    it('hold every event of every task of the project once, each task in its order, resumably', async () => {
      const gw = await createGateway({ port: 0, logLevel: 'silent', engine: engine.config() });
      try {
        await gw.publish('task:p1', [start('p1', 'acme'), line('p1 a')]);
        await gw.publish('task:other', [start('other', 'globex'), line('other a')]);
        await gw.publish('task:p2', [start('p2', 'acme')]);
        await gw.publish('task:p1', [line('p1 b'), line('p1 c')]);
        // A task without a project has no project stream.
        await gw.publish('task:loose', [start('loose'), line('loose a')]);
        // What producers publish to a project stream themselves stays there, in between.
        await gw.publish('project:acme', [line('acme news')]);

        const probe = await follow(gw, 'project:acme');
        await probe.until(() => probe.events.length === 6);
        const events = probe.events;
        assert.deepEqual(
          events.map((e) => e.seq),
          [1, 2, 3, 4, 5, 6],
        );
        const copies = origins(events.slice(0, 5));
        assert.deepEqual(
          copies.map((o) => `${o.stream}#${o.seq}`),
          ['task:p1#1', 'task:p1#2', 'task:p2#1', 'task:p1#3', 'task:p1#4'],
        );
        assert.equal(events[5]!.type, 'log:entry');
        // The copy is the task's envelope as its own stream holds it.
        const p1 = await gw.engine.read('task:p1', 0, 10);
        assert.deepEqual(
          copies.filter((o) => o.stream === 'task:p1'),
          p1.events,
        );

        // Live, then a drop and a resume from the last position: nothing lost, nothing twice.
        await gw.publish('task:p2', [line('p2 live')]);
        await probe.until(() => probe.events.length === 7);
        const last = probe.events[6]!;
        probe.ws.terminate();
        await gw.publish('task:p2', [line('p2 missed 1'), line('p2 missed 2')]);
        await gw.publish('task:p1', [line('p1 missed')]);
        const resumed = await follow(gw, 'project:acme', { epoch: last.epoch, seq: last.seq });
        const subscribed = resumed.find('subscribed');
        assert.equal(subscribed?.recovered, true);
        await resumed.until(() => resumed.events.length === 3);
        assert.deepEqual(
          resumed.events.map((e) => e.seq),
          [8, 9, 10],
        );
        assert.deepEqual(
          origins(resumed.events).map((o) => (o.data as { message: string }).message),
          ['p2 missed 1', 'p2 missed 2', 'p1 missed'],
        );
        resumed.ws.close();

        const globex = await gw.engine.read('project:globex', 0, 10);
        assert.deepEqual(
          origins(globex.events).map((o) => o.stream),
          ['task:other', 'task:other'],
        );
        assert.equal((await gw.engine.head('project:undefined')).head, 0);
      } finally {
        await gw.close();
      }
    });

    it('follow a task that moves to another project from the event that moved it', async () => {
      const gw = await createGateway({ port: 0, logLevel: 'silent', engine: engine.config() });
      try {
        await gw.publish('task:mover', [start('mover', 'old'), line('in old')]);
        // One batch that says something, moves, and says more: split at the task:start.
        await gw.publish('task:mover', [line('still old'), start('mover', 'new'), line('in new')]);
        await gw.publish('task:mover', [line('new again')]);
        const old = origins((await gw.engine.read('project:old', 0, 10)).events);
        const moved = origins((await gw.engine.read('project:new', 0, 10)).events);
        assert.deepEqual(
          old.map((o) => o.seq),
          [1, 2, 3],
        );
        assert.deepEqual(
          moved.map((o) => o.seq),
          [4, 5, 6],
        );
        assert.equal(moved[0]!.type, 'task:start');
      } finally {
        await gw.close();
      }
    });

    it('store a retried batch once', async () => {
      const gw = await createGateway({ port: 0, logLevel: 'silent', engine: engine.config() });
      try {
        await gw.publish('task:r', [start('r', 'retry'), line('one', 'evt-1')]);
        const batch = [line('two', 'evt-2'), line('three', 'evt-3')];
        await gw.publish('task:r', batch);
        await gw.publish('task:r', batch);
        await gw.publish('task:r', [line('two', 'evt-2'), line('four', 'evt-4')]);
        const copies = origins((await gw.engine.read('project:retry', 0, 20)).events);
        assert.deepEqual(
          copies.map((o) => o.seq),
          [1, 2, 3, 4, 5],
        );
      } finally {
        await gw.close();
      }
    });
  });
}

describe('project streams', () => {
  it('refuse project:event from producers', async () => {
    const gw = await createGateway({ port: 0, logLevel: 'silent' });
    try {
      const forged = {
        type: 'project:event',
        data: { stream: 'task:x', seq: 1, epoch: 'e', id: 'i', type: 'log:entry', time: 1, data: {} },
      };
      const res = await fetch(`${gw.url}/v1/streams/project%3Aacme/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: [forged] }),
      });
      assert.equal(res.status, 403);
      const body = (await res.json()) as { error: { code: string; details: { index: number } } };
      assert.equal(body.error.code, 'forbidden');
      assert.equal(body.error.details.index, 0);
      assert.equal((await gw.engine.head('project:acme')).head, 0);
    } finally {
      await gw.close();
    }
  });

  it('answer a producer only once the copy is durable; a failed copy is made by the retry', async () => {
    const memory = new MemoryEngine();
    let failNext = true;
    // The log with one fault: the first append to a project stream fails, as a storage error would.
    const faulty: LogEngine = Object.create(memory, {
      append: {
        value: (stream: string, inputs: Parameters<LogEngine['append']>[1]) => {
          if (projectIdOf(stream) !== undefined && failNext) {
            failNext = false;
            return Promise.reject(new AgentwireError('internal', 'disk full'));
          }
          return memory.append(stream, inputs);
        },
      },
    }) as LogEngine;
    const gw = await createGateway({
      port: 0,
      logLevel: 'silent',
      engine: { kind: 'custom', engine: faulty },
    });
    try {
      const batch = [{ ...start('f', 'faulty'), id: 'evt-start' }, line('one', 'evt-one')];
      await assert.rejects(gw.publish('task:f', batch), (err: AgentwireError) => err.code === 'internal');
      assert.equal((await gw.engine.head('task:f')).head, 2);
      assert.equal((await gw.engine.head('project:faulty')).head, 0);
      // The producer retries the same batch (same ids): stored once in the task, copied now.
      const retried = await gw.publish('task:f', batch);
      assert.deepEqual(
        retried.results.map((r) => r.duplicate),
        [true, true],
      );
      const copies = origins((await gw.engine.read('project:faulty', 0, 10)).events);
      assert.deepEqual(
        copies.map((o) => o.seq),
        [1, 2],
      );
    } finally {
      await gw.close();
    }
  });

  it('can be turned off', async () => {
    const gw = await createGateway({ port: 0, logLevel: 'silent', projectStreams: false });
    try {
      await gw.publish('task:t', [start('t', 'quiet')]);
      assert.equal((await gw.engine.head('project:quiet')).head, 0);
    } finally {
      await gw.close();
    }
  });

  it(
    'reach a watcher on another node of a cluster, in the order the project stream holds',
    {
      skip: redisSkip ?? false,
    },
    async () => {
      const prefix = `agentwire-test:projects-${randomBytes(6).toString('hex')}:`;
      prefixes.push(prefix);
      const config: EngineConfig = { kind: 'redis', url: redisUrl, prefix };
      const a = await createGateway({ port: 0, logLevel: 'silent', engine: config });
      const b = await createGateway({ port: 0, logLevel: 'silent', engine: config });
      try {
        const watcher = await follow(b, 'project:multi');
        await a.publish('task:m1', [start('m1', 'multi')]);
        await b.publish('task:m2', [start('m2', 'multi')]);
        for (let i = 0; i < 20; i++) {
          await (i % 2 === 0 ? a : b).publish(i % 3 === 0 ? 'task:m1' : 'task:m2', [line(`line ${i}`)]);
        }
        await watcher.until(() => watcher.events.length === 22);
        assert.deepEqual(
          watcher.events.map((e) => e.seq),
          Array.from({ length: 22 }, (_, i) => i + 1),
        );
        // Each task's events in its own order.
        for (const task of ['task:m1', 'task:m2']) {
          const seqs = origins(watcher.events)
            .filter((o) => o.stream === task)
            .map((o) => o.seq);
          assert.deepEqual(
            seqs,
            Array.from({ length: seqs.length }, (_, i) => i + 1),
          );
        }
        watcher.ws.close();
      } finally {
        await a.close();
        await b.close();
      }
    },
  );
});
