import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { taskIdOf, type AnyEventInput } from '@agentwire/protocol';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Gateway } from '../gateway.js';
import { requireService } from '../testing/services.js';
import { waitUntil } from '../testing/wait.js';
import { watcherSurfaces } from '../testing/surfaces.js';
import { A, B, cast, PRODUCER_KEY, secureGateway, spawned } from '../testing/auth-kit.js';

/**
 * A task that moves to another project (a later `task:start` naming it) leaves the watchers who
 * may no longer read it: on every watcher surface, whichever ingest path carried the move, a
 * viewer of project A sees the task up to the move and nothing after it. A stream subscription
 * is ended with `forbidden`; a room over every task just stops carrying it.
 */
const amqpUrl = process.env.AGENTWIRE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const noAmqp = await requireService('RabbitMQ', amqpUrl);

describe('a task moved to another project leaves its old project’s watchers', () => {
  const tag = randomBytes(4).toString('hex');
  const names = {
    exchange: `agentwire-test.${tag}.events`,
    queue: `agentwire-test.${tag}.ingest`,
    commandExchange: `agentwire-test.${tag}.commands`,
    producerQueue: `agentwire-test.${tag}.producers`,
  };
  let gw: Gateway;
  let viewerA: string;
  let broker: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;

  /** Every ingest path a producer has; each publishes the batch that moves the task. */
  const ingest: Record<string, ((stream: string, events: AnyEventInput[]) => Promise<void>) | undefined> = {
    http: async (stream, events) => {
      const res = await fetch(`${gw.url}/v1/streams/${stream}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PRODUCER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      assert.equal(res.status, 200, await res.text());
    },
    'in-process': async (stream, events) => {
      await gw.publish(stream, events);
    },
    amqp: noAmqp
      ? undefined
      : async (stream, events) => {
          for (const e of events)
            channel!.publish(names.exchange, stream, Buffer.from(JSON.stringify({ ...e, stream })), {
              contentType: 'application/json',
            });
          await channel!.waitForConfirms();
        },
  };

  before(async () => {
    // Seed 004's terminal follows one task under its task mapping, as the shared surfaces expect.
    const swarmTerminal = { stream: 'task:{projectId}' };
    gw = await secureGateway(
      noAmqp ? { swarmTerminal } : { swarmTerminal, amqp: { url: amqpUrl, ...names } },
    );
    viewerA = (await cast()).viewerA;
    if (!noAmqp) {
      broker = await connect(amqpUrl);
      channel = await broker.createConfirmChannel();
    }
  });
  after(async () => {
    await gw?.close();
    if (channel) {
      for (const q of [names.producerQueue, names.queue, `${names.queue}.dead`])
        await channel.deleteQueue(q).catch(() => {});
      for (const e of [names.commandExchange, names.exchange, `${names.queue}.dlx`])
        await channel.deleteExchange(e).catch(() => {});
    }
    await broker?.close();
  });

  let n = 0;
  const start = (stream: string, projectId: string): AnyEventInput => ({
    type: 'task:start',
    data: { taskId: taskIdOf(stream)!, title: 'moving', projectId },
  });

  it('a task moved into A is A’s whole: followed and read from its first event', async () => {
    const stream = `task:mv-${tag}-in`;
    await gw.publish(stream, [start(stream, B.project), spawned('from-beta')]);
    await gw.publish(stream, [start(stream, A.project), spawned('now-alpha')]);
    const watch = await watcherSurfaces[0]!.watch.open(gw.url, viewerA, stream);
    try {
      await gw.publish(stream, [spawned('live-in')]);
      await watch.until(() => watch.texts.some((t) => t.includes('live-in')), 'the live event');
      assert.equal(watch.refusal, undefined);
      assert.ok(watch.texts.some((t) => t.includes('from-beta')));
    } finally {
      watch.close();
    }
    const history = await fetch(`${gw.url}/v1/streams/${stream}/events`, {
      headers: { authorization: `Bearer ${viewerA}` },
    });
    assert.equal(((await history.json()) as { events: unknown[] }).events.length, 5);
  });

  for (const surface of watcherSurfaces) {
    for (const [path, publish] of Object.entries(ingest)) {
      it(`${surface.name}, moved over ${path}`, { skip: publish ? false : noAmqp }, async () => {
        const i = ++n;
        const stream = `task:mv-${tag}-${i}`;
        const neighbour = `task:mv-${tag}-${i}-n`;
        await gw.publish(stream, [start(stream, A.project), spawned(`seen-${i}`)]);
        await gw.publish(neighbour, [start(neighbour, A.project)]);
        const watch = await surface.watch.open(gw.url, viewerA, stream);
        try {
          assert.equal(watch.refusal, undefined, `following ${stream} as a viewer of A`);
          await gw.publish(stream, [spawned(`live-${i}`)]);
          await watch.until(() => watch.texts.some((t) => t.includes(`live-${i}`)), 'the live event');
          if (surface.watch.follows === 'stream' && !surface.watch.stateless) {
            // The move must meet a live subscription (a poller's next poll included), not a new one.
            await waitUntil(() => (gw.hub.watcherCounts()[stream] ?? 0) > 0, 'a subscription to be open');
            await new Promise((resolve) => setImmediate(resolve));
          }

          await publish!(stream, [start(stream, B.project), spawned(`beta-secret-${i}`)]);
          if (surface.watch.follows === 'stream') {
            await watch.until(() => watch.refusal !== undefined, 'the subscription to end');
            assert.equal(watch.refusal, 'forbidden');
          } else {
            // A room over every task: what commits after the move still arrives, the task does not.
            await gw.publish(neighbour, [spawned(`after-${i}`)]);
            await watch.until(() => watch.texts.some((t) => t.includes(`after-${i}`)), 'the later event');
          }
          await gw.publish(stream, [spawned(`beta-secret-later-${i}`)]);
          const leaked = watch.texts.filter((t) => t.includes('beta-secret') || t.includes(B.project));
          assert.deepEqual(leaked, [], 'nothing of the task after its move');
        } finally {
          watch.close();
        }
      });
    }
  }
});
