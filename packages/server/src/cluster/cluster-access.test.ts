// Producer identity and start routing hold across gateway nodes: a producer id bound on one node
// is refused to another credential on another, and a start relayed between nodes goes only to a
// worker whose credential may publish into the task's project.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { taskIdOf } from '@agentwire/protocol';
import { A, B, cast, PRODUCER_KEY, SECRET, token } from '../testing/auth-kit.js';
import { createGateway, type Gateway } from '../gateway.js';
import { commandOverWs, RawProducer } from '../testing/producers.js';
import { wipeRedisPrefix } from '../testing/redis.js';
import { requireService } from '../testing/services.js';
import { waitUntil } from '../testing/wait.js';
import { WsProbe } from '../testing/ws-probe.js';

const url = process.env.AGENTWIRE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const skip = await requireService('Redis', url);
const prefix = `agentwire-test:cluster-access-${randomBytes(6).toString('hex')}:`;

describe('producer identity and start routing across a cluster', { skip }, () => {
  let one: Gateway;
  let two: Gateway;
  let adminTwo: WsProbe;
  const producers: RawProducer[] = [];
  const producerB = { sub: 'producer-b', scope: ['publish'], projects: [B.project] };

  before(async () => {
    [one, two] = (await Promise.all(
      [0, 1].map(() =>
        createGateway({
          port: 0,
          logLevel: 'silent',
          engine: { kind: 'redis', url, prefix },
          auth: { secret: SECRET, apiKeys: [{ name: 'producer', key: PRODUCER_KEY }] },
          producers: { heartbeatMs: 200, orphanAfterMs: 5_000, commandTimeoutMs: 5_000, claimWaitMs: 2_000 },
        }),
      ),
    )) as [Gateway, Gateway];
    await one.publish(B.task, [
      { type: 'task:start', data: { taskId: taskIdOf(B.task)!, title: 'beta work', projectId: B.project } },
    ]);
    adminTwo = await WsProbe.open(`${two.wsUrl}?token=${(await cast()).admin}`);
  });
  after(async () => {
    for (const p of producers) p.close();
    adminTwo?.close();
    await Promise.all([one?.close(), two?.close()]);
    await wipeRedisPrefix(url, prefix);
  });

  const open = async (gw: Gateway, credential: string, hello: Parameters<typeof RawProducer.open>[1]) => {
    const p = await RawProducer.open(gw.url, hello, credential);
    producers.push(p);
    return p;
  };

  it('refuses a producer id held on node one to another credential on node two', async () => {
    const rightful = await open(one, await token(producerB), { producerId: 'p-x', streams: [B.task] });
    const attacker = await open(
      two,
      await token({ sub: 'producer-a', scope: ['publish'], projects: [A.project] }),
      false,
    );
    const answer = await attacker.hello({ producerId: 'p-x' });
    assert.equal(answer.op === 'error' && answer.code, 'producer_id_taken');
    assert.ok(!attacker.ops.some((o) => o.op === 'welcome' || o.op === 'command'));

    // The task is still the rightful producer's: a command sent on node two reaches it on node one.
    const pending = commandOverWs(adminTwo, { type: 'message', stream: B.task, text: 'relayed' });
    const delivered = await rightful.command();
    rightful.send({ op: 'ack', id: delivered.id });
    assert.equal((await pending).ok, true, JSON.stringify(await pending));
    assert.equal(rightful.closeCode, undefined);

    // The same credential may move to node two.
    const moved = await open(two, await token(producerB, 900), false);
    const welcome = await moved.hello({ producerId: 'p-x', streams: [B.task] });
    assert.equal(welcome.op, 'welcome');
  });

  it('ends a subscription on node two when node one stores the move of its task to another project', async () => {
    const stream = 'task:moving-across';
    await one.publish(stream, [
      { type: 'task:start', data: { taskId: 'moving-across', title: 'moves', projectId: A.project } },
    ]);
    const viewer = await WsProbe.open(`${two.wsUrl}?token=${(await cast()).viewerA}`);
    try {
      viewer.send({ op: 'subscribe', stream, since: { seq: 0 }, ref: 's' });
      await viewer.waitFor('subscribed');
      await viewer.until(() => viewer.events.length === 1);
      await one.publish(stream, [
        { type: 'task:start', data: { taskId: 'moving-across', title: 'moved', projectId: B.project } },
        { type: 'log:entry', data: { level: 'info', message: 'beta-secret' } },
      ]);
      const refused = await viewer.waitFor('error', (f) => f.stream === stream);
      assert.equal(refused.code, 'forbidden');
      assert.ok(!JSON.stringify(viewer.frames).includes('beta-secret'));
      assert.equal(viewer.events.length, 1);
    } finally {
      viewer.close();
    }
  });

  it('does not relay a start in project B to a worker of project A on another node', async () => {
    const alpha = await open(
      one,
      await token({ sub: 'worker-a', scope: ['publish'], projects: [A.project] }),
      { kinds: ['translate'] },
    );
    await waitUntil(
      () => two.cluster!.presence.workersElsewhere('translate').length === 1,
      'node two to see the worker on node one',
    );
    const refused = await commandOverWs(adminTwo, {
      type: 'start',
      kind: 'translate',
      projectId: B.project,
      input: { text: 'beta-secret' },
    });
    assert.equal(refused.ok === false && refused.code, 'no_worker', JSON.stringify(refused));

    const accepted = commandOverWs(adminTwo, { type: 'start', kind: 'translate', projectId: A.project });
    const start = await alpha.command();
    assert.equal(start.command.type === 'start' && start.command.projectId, A.project);
    assert.equal(alpha.commands.length, 1);
    alpha.send({ op: 'ack', id: start.id, result: {} });
    assert.equal((await accepted).ok, true);
  });
});
