import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../gateway.js';
import { WsProbe } from '../testing/ws-probe.js';
import { A, log, PRODUCER_KEY, secureGateway, token } from '../testing/auth-kit.js';

/** Every 429 says when to come back: a client must not have to guess its backoff. */
describe('Retry-After on refusals a retry can get past', () => {
  let gw: Gateway;
  before(async () => {
    gw = await secureGateway({
      limits: { maxIngestEventsPerSecond: 10, ingestBurst: 100, maxConnectionsPerUser: 1 },
    });
  });
  after(() => gw.close());

  it('the ingest rate limit: 429 rate_limited with the seconds until the batch fits', async () => {
    const post = (n: number) =>
      fetch(`${gw.url}/v1/streams/task:rate/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': PRODUCER_KEY },
        body: JSON.stringify({ events: Array.from({ length: n }, (_, i) => log(`e${i}`)) }),
      });
    assert.equal((await post(100)).status, 200);
    const refused = await post(50);
    assert.equal(refused.status, 429);
    const body = (await refused.json()) as { error: { code: string; details: { retryAfterMs: number } } };
    assert.equal(body.error.code, 'rate_limited');
    // 50 events at 10 per second: about five seconds, never less than the bucket needs.
    const seconds = Number(refused.headers.get('retry-after'));
    assert.ok(seconds >= 4 && seconds <= 5, `Retry-After: ${refused.headers.get('retry-after')}`);
    assert.ok(body.error.details.retryAfterMs > 4000);
  });

  it('the connection limit over HTTP: 429 too_many_connections with Retry-After', async () => {
    const user = await token({ sub: 'one-slot', role: 'viewer', projects: [A.project] });
    const held = await WsProbe.open(`${gw.wsUrl}?token=${user}`);
    await held.waitFor('authenticated');
    const sse = await fetch(`${gw.url}/v1/streams/${A.task}/sse`, {
      headers: { authorization: `Bearer ${user}` },
    });
    assert.equal(sse.status, 429);
    assert.equal(sse.headers.get('retry-after'), '1');
    await sse.body?.cancel();
    held.close();
  });
});
