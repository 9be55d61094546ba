import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../gateway.js';
import { commandOverWs, RawProducer } from '../testing/producers.js';
import { WsProbe } from '../testing/ws-probe.js';
import { A, B, cast, PRODUCER_KEY, secureGateway, token } from '../testing/auth-kit.js';

/**
 * A start goes only to a worker whose credential may publish the new task's `task:start`: a
 * worker of project A never hears of (or gets the input of) a task started in project B.
 */
describe('starts are routed within the worker’s projects', () => {
  let gw: Gateway;
  let admin: WsProbe;
  const workers: RawProducer[] = [];
  before(async () => {
    gw = await secureGateway({ producers: { heartbeatMs: 200, commandTimeoutMs: 2_000 } });
    admin = await WsProbe.open(`${gw.wsUrl}?token=${(await cast()).admin}`);
  });
  after(async () => {
    for (const w of workers) w.close();
    admin.close();
    await gw.close();
  });

  const worker = async (credential: string, kinds: string[]) => {
    const w = await RawProducer.open(gw.url, { kinds }, credential);
    workers.push(w);
    return w;
  };

  it('refuses a start in B when the only worker for the kind is A’s, and tells it nothing', async () => {
    const alpha = await worker(await token({ sub: 'worker-a', scope: ['publish'], projects: [A.project] }), [
      'research',
    ]);
    const refused = await commandOverWs(admin, {
      type: 'start',
      kind: 'research',
      projectId: B.project,
      input: { secret: 'beta-secret input' },
    });
    assert.equal(refused.ok === false && refused.code, 'no_worker');
    // Nor without a project: a worker scoped to projects cannot publish such a task:start.
    const unscoped = await commandOverWs(admin, { type: 'start', kind: 'research' });
    assert.equal(unscoped.ok === false && unscoped.code, 'no_worker');

    const accepted = commandOverWs(admin, { type: 'start', kind: 'research', projectId: A.project });
    const start = await alpha.command();
    assert.equal(start.command.type === 'start' && start.command.projectId, A.project);
    assert.equal(alpha.commands.length, 1, 'the refused starts never reached the worker');
    assert.ok(!JSON.stringify(alpha.ops).includes('beta-secret'));
    alpha.send({ op: 'ack', id: start.id, result: {} });
    assert.equal((await accepted).ok, true);
  });

  it('prefers an allowed busy worker to an idle one of another project, and lets an API key take any', async () => {
    const beta = await worker(await token({ sub: 'worker-b', scope: ['publish'], projects: [B.project] }), [
      'review',
    ]);
    const alpha = await worker(await token({ sub: 'worker-a2', scope: ['publish'], projects: [A.project] }), [
      'review',
    ]);
    const first = commandOverWs(admin, { type: 'start', kind: 'review', projectId: B.project });
    const second = commandOverWs(admin, { type: 'start', kind: 'review', projectId: B.project });
    await beta.command(1);
    assert.equal(alpha.commands.length, 0);
    for (const c of beta.commands) beta.send({ op: 'ack', id: c.id, result: {} });
    assert.equal((await first).ok && (await second).ok, true);

    const any = await worker(PRODUCER_KEY, ['summary']);
    const anywhere = commandOverWs(admin, { type: 'start', kind: 'summary', projectId: 'gamma' });
    const start = await any.command();
    any.send({ op: 'ack', id: start.id, result: {} });
    assert.equal((await anywhere).ok, true);
  });
});
