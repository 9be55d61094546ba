// Commands across gateway nodes: a watcher on one node acts on a producer connected to another,
// through the Redis relay; presence and connection counts are summed over the nodes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { connect, type Producer } from '@agentwire/agent';
import { createGateway, type Gateway } from '../gateway.js';
import { commandOverHttp, commandOverWs } from '../testing/producers.js';
import { wipeRedisPrefix } from '../testing/redis.js';
import { requireService } from '../testing/services.js';
import { WsProbe } from '../testing/ws-probe.js';
import { waitUntil } from '../testing/wait.js';

const url = process.env.AGENTWIRE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const skip = await requireService('Redis', url);
const prefix = `agentwire-test:cluster-commands-${randomBytes(6).toString('hex')}:`;

async function watch(gateway: Gateway, stream: string): Promise<WsProbe> {
  const probe = await WsProbe.open(gateway.wsUrl);
  probe.send({ op: 'subscribe', stream, since: { seq: 0 } });
  await probe.waitFor('subscribed', (f) => f.stream === stream);
  return probe;
}

describe('commands and presence across a cluster of gateways', { skip }, () => {
  let nodes: Gateway[] = [];
  const producers: Producer[] = [];
  const probes: WsProbe[] = [];

  before(async () => {
    nodes = await Promise.all(
      [0, 1, 2].map(() =>
        createGateway({
          port: 0,
          logLevel: 'silent',
          engine: { kind: 'redis', url, prefix },
          producers: { heartbeatMs: 200, orphanAfterMs: 3_000, commandTimeoutMs: 5_000, claimWaitMs: 2_000 },
        }),
      ),
    );
  });

  after(async () => {
    for (const p of probes) p.close();
    await Promise.all(producers.map((p) => p.close().catch(() => undefined)));
    await Promise.all(nodes.map((n) => n.close()));
    await wipeRedisPrefix(url, prefix);
  });

  const producerOn = (gateway: Gateway | Gateway[], name: string): Producer => {
    const urls = Array.isArray(gateway) ? gateway.map((g) => g.url) : gateway.url;
    const producer = connect({ url: urls, name, reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
    producers.push(producer);
    return producer;
  };

  it('a cancel sent on node C fires the signal of a producer connected to node A; every node sees task:cancelled', async () => {
    const [a, b, c] = nodes as [Gateway, Gateway, Gateway];
    const producer = producerOn(a, 'cancel-on-a');
    const task = await producer.startTask({ title: 'long work', taskId: 'cross-cancel' });
    const stream = task.stream;
    const watchers = await Promise.all([a, b, c].map((n) => watch(n, stream)));
    probes.push(...watchers);
    await a.producers.awaitOwner(stream);
    assert.ok(a.producers.ownerOf(stream), 'the producer claimed the task on node A');
    assert.equal(c.producers.ownerOf(stream), undefined, 'node C has no producer of its own for it');

    const sent = performance.now();
    const reply = await commandOverWs(watchers[2]!, { type: 'cancel', stream, reason: 'from node C' });
    const acked = performance.now();
    assert.ok(reply.ok, JSON.stringify(reply));
    assert.equal(task.signal.aborted, true, "the producer's signal fired");
    for (const [i, w] of watchers.entries()) {
      await w.until(() => w.events.some((e) => e.type === 'task:cancelled'), 5_000);
      const cancelled = w.events.filter((e) => e.type === 'task:cancelled');
      assert.equal(cancelled.length, 1, `node ${'ABC'[i]} sees task:cancelled once`);
      assert.equal((cancelled[0]!.data as { reason?: string }).reason, 'from node C');
    }
    console.log(`# cancel relayed C -> A: acknowledged after ${(acked - sent).toFixed(1)} ms`);
  });

  it('a chat message sent on node B over HTTP reaches the producer on node A', async () => {
    const [a, b] = nodes as [Gateway, Gateway];
    const producer = producerOn(a, 'chat-on-a');
    const task = await producer.startTask({ title: 'chatty', taskId: 'cross-chat' });
    const heard = new Promise<string>((resolve) => task.onMessage((m) => resolve(m.text)));
    await a.producers.awaitOwner(task.stream);
    const reply = await commandOverHttp(b.url, {
      type: 'message',
      stream: task.stream,
      text: 'hello from B',
    });
    assert.ok(reply.ok, JSON.stringify(reply));
    assert.equal(await heard, 'hello from B');
  });

  it('a command for a producer that moved to another node follows it there', async () => {
    const [a, b, c] = nodes as [Gateway, Gateway, Gateway];
    // A producer that knows two nodes: when its connection to A drops, it reconnects to B.
    const producer = producerOn([a, b], 'mover');
    const task = await producer.startTask({ title: 'moving', taskId: 'cross-move' });
    const owner = await a.producers.awaitOwner(task.stream);
    assert.ok(owner);
    // Cut the producer's channel from A's side, as a network blip would.
    owner.link?.close(1012, 'shutting_down');
    await b.producers.awaitOwner(task.stream);
    assert.ok(b.producers.ownerOf(task.stream), 'it claimed the task again on node B');
    // Node A hears that the task is owned elsewhere and lets go, so it will never orphan it.
    await waitUntil(() => a.producers.ownerOf(task.stream) === undefined, 'node A to let go', 2_000);
    assert.equal(a.producers.ownerOf(task.stream), undefined, 'node A let go of the task');
    const reply = await commandOverHttp(c.url, { type: 'cancel', stream: task.stream });
    assert.ok(reply.ok, JSON.stringify(reply));
    assert.equal(task.signal.aborted, true);
  });

  it('a task of a kind whose only worker is on node A can be started from node C', async () => {
    const [a, , c] = nodes as [Gateway, Gateway, Gateway];
    const producer = producerOn(a, 'worker-on-a');
    const ran = new Promise<unknown>((resolve) => {
      producer.handle('echo', async (task, input) => {
        resolve(input);
        await task.complete({ echoed: input });
      });
    });
    await waitUntil(() => a.producers.workers().length > 0, 'the worker on node a');
    // Presence is exchanged every couple of seconds; a round now makes the worker known at once.
    await a.cluster!.presence.refresh();
    await c.cluster!.presence.refresh();
    const res = await fetch(`${c.url}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'echo me', kind: 'echo', input: { n: 7 } }),
    });
    const body = (await res.json()) as { stream?: string; worker?: string };
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.deepEqual(await ran, { n: 7 });
    assert.ok(body.stream);
    const watcher = await watch(c, body.stream);
    probes.push(watcher);
    await watcher.until(() => watcher.events.some((e) => e.type === 'task:complete'));
  });

  it('counts connections and subscribers over every node', async () => {
    const [a, b, c] = nodes as [Gateway, Gateway, Gateway];
    const stream = 'task:presence';
    const extra = [await watch(a, stream), await watch(a, stream), await watch(b, stream)];
    probes.push(...extra);
    await Promise.all(nodes.map((n) => n.cluster!.presence.refresh()));
    await c.cluster!.presence.refresh();
    const stats = c.stats() as {
      cluster?: { nodes: number; connections: number; subscriptions: number; watchedStreams: number };
    };
    assert.ok(stats.cluster, 'stats carry cluster-wide numbers');
    assert.equal(stats.cluster.nodes, 3);
    const local = nodes.reduce((n, g) => n + (g.stats() as { connections: number }).connections, 0);
    assert.equal(stats.cluster.connections >= local, true, `${stats.cluster.connections} >= ${local}`);
    assert.equal(c.cluster!.presence.watchersOf(stream), 3, 'two subscribers on A and one on B');
  });
});
