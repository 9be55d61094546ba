import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  parseGatewayFrame,
  PRODUCER_PATH,
  PRODUCER_PROTOCOL_VERSION,
  PRODUCER_SUBPROTOCOL,
  type GatewayOp,
} from '@agentwire/protocol';
import WebSocket from 'ws';
import type { Gateway } from '../gateway.js';
import { A, B, secureGateway, token } from '../testing/auth-kit.js';
import { waitUntil } from '../testing/wait.js';

/** A producer channel opened with a credential, recording what the gateway answers. */
async function openProducer(gw: Gateway, credential: string) {
  const ws = new WebSocket(`${gw.url.replace(/^http/, 'ws')}${PRODUCER_PATH}`, PRODUCER_SUBPROTOCOL, {
    headers: { authorization: `Bearer ${credential}` },
  });
  const ops: GatewayOp[] = [];
  let closed = false;
  ws.on('message', (data) => ops.push(parseGatewayFrame(data.toString())));
  ws.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const until = (predicate: () => boolean) =>
    waitUntil(predicate, () => `a frame; got ${JSON.stringify(ops)}`);
  return { ws, ops, until, closed: () => closed };
}

describe("a producer's credential limits the tasks it may own", () => {
  let gw: Gateway;
  before(async () => {
    gw = await secureGateway();
  });
  after(() => gw.close());

  it("refuses a hello that claims another project's task, and the connection never becomes a producer", async () => {
    const p = await openProducer(
      gw,
      await token({ sub: 'producer-a', scope: ['publish'], projects: [A.project] }),
    );
    p.ws.send(
      JSON.stringify({
        op: 'hello',
        version: PRODUCER_PROTOCOL_VERSION,
        producerId: 'pa-1',
        streams: [B.task],
      }),
    );
    await p.until(() => p.ops.some((o) => o.op === 'error'));
    const error = p.ops.find((o) => o.op === 'error');
    assert.equal(error?.op === 'error' && error.code, 'forbidden');
    assert.ok(!p.ops.some((o) => o.op === 'welcome'));
    await p.until(() => p.closed());
  });

  it('accepts its own project and not-yet-started tasks, and refuses a later claim on another project', async () => {
    const p = await openProducer(
      gw,
      await token({ sub: 'producer-a', scope: ['publish'], projects: [A.project] }),
    );
    p.ws.send(
      JSON.stringify({
        op: 'hello',
        version: PRODUCER_PROTOCOL_VERSION,
        producerId: 'pa-2',
        streams: [A.task, 'task:not-started-yet'],
      }),
    );
    await p.until(() => p.ops.some((o) => o.op === 'welcome'));
    p.ws.send(JSON.stringify({ op: 'claim', streams: [B.task] }));
    await p.until(() => p.ops.some((o) => o.op === 'error'));
    const error = p.ops.find((o) => o.op === 'error');
    assert.equal(error?.op === 'error' && error.code, 'forbidden');
    assert.equal(p.closed(), false, 'a refused claim leaves the producer connected');
    p.ws.close();
  });

  it('lets an API key (publish anywhere) own any task', async () => {
    const p = await openProducer(gw, 'awk_test_producer_key_0123456789abcdef');
    p.ws.send(
      JSON.stringify({
        op: 'hello',
        version: PRODUCER_PROTOCOL_VERSION,
        producerId: 'pk-1',
        streams: [A.task, B.task],
      }),
    );
    await p.until(() => p.ops.some((o) => o.op === 'welcome'));
    assert.ok(!p.ops.some((o) => o.op === 'error'));
    p.ws.close();
  });
});
