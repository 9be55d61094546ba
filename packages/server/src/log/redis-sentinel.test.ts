// A Redis failover under running gateways, for real: a primary, a replica and three sentinels of
// the test's own; two gateways on the Sentinel URL, each with a subscriber; a producer publishing
// one event at a time; the primary killed with SIGKILL. The sentinels promote the replica, every
// connection of both gateways (log, announcements, cluster) follows it, and with WAIT every
// acknowledged event is on the new primary: subscribers get each one once, in seq order, no gap.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AnyEnvelope } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';
import { startSentinelSet, requireRedisSentinel, type SentinelSet } from '../testing/redis-sentinel.js';
import { waitUntil } from '../testing/wait.js';
import { WsProbe } from '../testing/ws-probe.js';

const skip = requireRedisSentinel();
const stream = 'task:failover';

/** One POST of one event; the status and, on a refusal, the storage's cause. */
async function publish(gw: Gateway, id: string): Promise<{ status: number; cause?: string }> {
  const res = await fetch(`${gw.url}/v1/streams/${stream}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events: [{ id, type: 'log:entry', data: { level: 'info', message: id } }] }),
  });
  const body = (await res.json()) as { error?: { details?: { cause?: string } } };
  const cause = body.error?.details?.cause;
  return cause === undefined ? { status: res.status } : { status: res.status, cause };
}

async function subscriber(gw: Gateway): Promise<WsProbe> {
  const probe = await WsProbe.open(gw.url.replace(/^http/, 'ws') + '/v1/ws');
  probe.send({ op: 'subscribe', stream, since: { seq: 0 }, ref: 's' });
  await probe.until(() => probe.frames.some((f) => f.op === 'subscribed'));
  return probe;
}

/** Every seq from 1 to the last once, in order, and every acknowledged id among them once. */
function assertComplete(events: AnyEnvelope[], acked: string[], who: string): void {
  const seqs = events.map((e) => e.seq);
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => i + 1),
    `${who}: seqs must run 1, 2, 3 … with no gap or repeat`,
  );
  const ids = events.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, `${who}: no event id twice`);
  const have = new Set(ids);
  const missing = acked.filter((id) => !have.has(id));
  assert.deepEqual(missing, [], `${who}: acknowledged events missing`);
}

describe('Redis Sentinel failover', { skip }, () => {
  let set: SentinelSet;
  const gateways: Gateway[] = [];
  before(async () => {
    set = await startSentinelSet({ downAfterMs: 1000, failoverTimeoutMs: 3000 });
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await set?.close();
  });

  it('follows the promoted replica, and with WAIT loses no acknowledged event', async () => {
    const engine = {
      kind: 'redis',
      url: set.url,
      prefix: 'sentinel:',
      waitReplicas: 1,
      waitTimeoutMs: 500,
    } as const;
    for (let i = 0; i < 2; i++) gateways.push(await createGateway({ port: 0, logLevel: 'silent', engine }));
    const [a, b] = gateways as [Gateway, Gateway];
    const probes = [await subscriber(a), await subscriber(b)];

    // One event at a time, alternating nodes, each retried with its id until acknowledged: what
    // the agent SDK does. The pause between retries paces the producer; nothing waits on it.
    const acked: string[] = [];
    const causes = new Set<string>();
    let stopping = false;
    const producer = (async () => {
      for (let i = 0; !stopping; i++) {
        const id = `e${i}`;
        for (;;) {
          const { status, cause } = await publish(gateways[i % 2]!, id).catch(() => ({
            status: 0,
            cause: 'fetch',
          }));
          if (status === 200) break;
          if (cause !== undefined) causes.add(cause);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        acked.push(id);
      }
    })();

    await waitUntil(() => acked.length >= 20, 'the first 20 events to be acknowledged', 20_000);
    const oldPort = set.primary.port;
    assert.equal(await set.masterPort(), oldPort);
    await set.primary.kill('SIGKILL');
    const killedAt = acked.length;
    const newPort = await set.waitForFailover(oldPort);
    assert.equal(newPort, set.replica.port);

    // The new primary has no replica yet: WAIT cannot be satisfied, so appends are refused as
    // retryable rather than acknowledged unreplicated.
    await waitUntil(
      () => causes.has('NOREPLICAS'),
      () => `a NOREPLICAS refusal; saw ${[...causes].join(', ')}`,
      20_000,
    );
    // The old primary comes back; the sentinels make it a replica of the new one.
    await set.primary.start();
    await waitUntil(
      () => acked.length >= killedAt + 20,
      () =>
        `20 more events acknowledged after the failover (${acked.length - killedAt} so far; refusals: ${[...causes].join(', ')})`,
      40_000,
    );
    stopping = true;
    await producer;

    for (const [i, probe] of probes.entries()) {
      await probe.until(() => acked.every((id) => probe.events.some((e) => e.id === id)), 20_000);
      assertComplete(probe.events, acked, `subscriber ${i}`);
    }
    // The log itself, as a subscriber arriving now reads it from the new primary.
    const late = await subscriber(b);
    await late.until(() => acked.every((id) => late.events.some((e) => e.id === id)), 20_000);
    assertComplete(late.events, acked, 'a late subscriber');
    for (const p of [...probes, late]) p.ws.close();
  });
});
