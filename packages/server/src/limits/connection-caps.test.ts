import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { A, getJson, secureGateway, token } from '../testing/auth-kit.js';
import type { Gateway } from '../gateway.js';
import { waitUntil } from '../testing/wait.js';
import { WsProbe } from '../testing/ws-probe.js';

/**
 * Connections a client can hold without them counting anywhere: long-polls (now under the per-user
 * limit like every other connection), and WebSockets opened without a credential, which wait for
 * `auth` (now capped per source address and in all until they authenticate).
 */
describe('connection caps', () => {
  let gw: Gateway;
  // A variable, not a literal: the caps are read as plain options.
  const limits = {
    maxConnectionsPerUser: 3,
    maxUnauthenticatedPerAddress: 3,
    maxUnauthenticatedConnections: 5,
  };
  before(async () => {
    gw = await secureGateway({ limits });
  });
  after(() => gw.close());

  it('counts long-polls toward the per-user limit', async () => {
    const user = await token({ sub: 'poller', role: 'viewer', projects: [A.project] });
    const { body } = await getJson(`${gw.url}/v1/streams/${A.task}/poll`, user);
    const head = body.head as number;
    const aborts: AbortController[] = [];
    const waiting: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      const abort = new AbortController();
      aborts.push(abort);
      waiting.push(
        getJson(`${gw.url}/v1/streams/${A.task}/poll?after=${head}&wait=20`, user, {
          signal: abort.signal,
        }).catch(() => undefined),
      );
    }
    await waitUntil(() => gw.stats().pendingPolls === 3, 'three polls waiting');
    const fourth = await getJson(`${gw.url}/v1/streams/${A.task}/poll?after=${head}&wait=20`, user);
    assert.equal(fourth.status, 429);
    assert.equal(fourth.body.error.code, 'too_many_connections');
    // The same slots as every other transport: a WebSocket of the same user is refused too.
    const ws = await WsProbe.open(`${gw.wsUrl}?token=${user}`);
    await ws.until(() => ws.closeCode !== undefined);
    assert.equal(ws.closeCode, 4430);

    aborts[0]!.abort();
    await waitUntil(() => gw.stats().pendingPolls === 2, 'the aborted poll to end');
    const abort = new AbortController();
    aborts.push(abort);
    const again = getJson(`${gw.url}/v1/streams/${A.task}/poll?after=${head}&wait=20`, user, {
      signal: abort.signal,
    }).catch(() => undefined);
    await waitUntil(() => gw.stats().pendingPolls === 3, 'a new poll to wait in the freed slot');
    for (const a of aborts) a.abort();
    await Promise.all([...waiting, again]);
  });

  it('caps WebSockets waiting to authenticate per source address and in all, until they authenticate', async () => {
    const held: WebSocket[] = [];
    const from = async (address: string, path = '/v1/ws') => {
      const ws = new WebSocket(`${gw.url.replace(/^http/, 'ws')}${path}`, { localAddress: address });
      ws.on('error', () => {});
      const outcome = await new Promise<number>((resolve) => {
        ws.once('open', () => resolve(101));
        ws.once('unexpected-response', (_req, res: IncomingMessage) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
      });
      if (outcome === 101) held.push(ws);
      return { ws, outcome };
    };
    try {
      for (let i = 0; i < 3; i++) assert.equal((await from('127.0.0.1')).outcome, 101);
      assert.equal((await from('127.0.0.1')).outcome, 429, 'the fourth from one address');
      // Another address has room until the ceiling (five in all).
      assert.equal((await from('127.0.0.2')).outcome, 101);
      assert.equal((await from('127.0.0.2')).outcome, 101);
      assert.equal((await from('127.0.0.3')).outcome, 429, 'past the ceiling');
      // Socket.IO connections that have not authenticated count the same way.
      const sio = await from('127.0.0.4', '/socket.io/?EIO=4&transport=websocket');
      assert.notEqual(sio.outcome, 101, 'a Socket.IO connection past the ceiling');

      // One authenticates: its slot is free for another connection from its address.
      const first = held[0]!;
      const authenticated = new Promise<void>((resolve) =>
        first.on('message', (data) => {
          if (data.toString().includes('"op":"authenticated"')) resolve();
        }),
      );
      first.send(
        JSON.stringify({
          op: 'auth',
          token: await token({ sub: 'late', role: 'viewer', projects: [A.project] }),
        }),
      );
      await authenticated;
      assert.equal((await from('127.0.0.1')).outcome, 101);
      // And closing one frees its slot as well.
      held[1]!.close();
      await waitUntil(() => gw.stats().connections === held.length - 1, 'the closed socket to be gone');
      assert.equal((await from('127.0.0.1')).outcome, 101);
    } finally {
      for (const ws of held) ws.terminate();
    }
  });
});
