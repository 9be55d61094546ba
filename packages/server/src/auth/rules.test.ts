import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import type { Gateway } from '../gateway.js';
import { SioProbe } from '../testing/sio-probe.js';
import { WsProbe } from '../testing/ws-probe.js';
import { A, cast, getJson, log, PRODUCER_KEY, SECRET, secureGateway, token } from '../testing/auth-kit.js';

const json = { 'content-type': 'application/json' };

/** Opens a raw WebSocket and reports how it ended: the close code, or the HTTP status of a refused upgrade. */
function outcome(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('close', (code) => resolve(code));
    // Accepted and still open after a moment: report the 101 and hang up.
    ws.on('open', () =>
      setTimeout(() => {
        if (ws.readyState === ws.OPEN) {
          resolve(101);
          ws.close();
        }
      }, 200),
    );
    ws.on('error', () => {});
  });
}

describe('roles, tokens and origins', () => {
  let gw: Gateway;
  let t: Awaited<ReturnType<typeof cast>>;
  before(async () => {
    gw = await secureGateway();
    t = await cast();
  });
  after(() => gw.close());

  it('a viewer cannot cancel, answer, message or start; an operator gets past the check', async () => {
    const viewer = await WsProbe.open(`${gw.wsUrl}?token=${t.viewerA}`);
    const commands = [
      { type: 'cancel', stream: A.task },
      { type: 'answer', stream: A.task, questionId: 'q', answer: 1 },
      { type: 'message', stream: A.task, text: 'hi' },
      { type: 'start', kind: 'research', projectId: A.project },
    ];
    commands.forEach((command, i) => viewer.send({ op: 'command', ref: `v${i}`, command }));
    for (let i = 0; i < commands.length; i++) {
      assert.equal((await viewer.waitFor('error', (f) => f.ref === `v${i}`)).code, 'forbidden');
    }
    viewer.close();
    const operator = await WsProbe.open(`${gw.wsUrl}?token=${t.operatorA}`);
    operator.send({ op: 'command', ref: 'o1', command: commands[0] });
    await operator.until(() =>
      operator.frames.some((f) => (f.op === 'error' || f.op === 'ack') && f.ref === 'o1'),
    );
    const reply = operator.frames.find((f) => (f.op === 'error' || f.op === 'ack') && f.ref === 'o1')!;
    // No producer owns the task in this test: the refusal is the router's, not the access check's.
    assert.notEqual(reply.op === 'error' ? reply.code : 'ack', 'forbidden', JSON.stringify(reply));
    operator.close();
    // The same over HTTP and Socket.IO.
    const http = await getJson(`${gw.url}/v1/commands`, t.viewerA, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(commands[0]),
    });
    assert.equal(http.status, 403);
    const sio = await SioProbe.open(gw.url, { auth: { token: t.viewerA }, transports: ['websocket'] });
    const ack = (await sio.socket.emitWithAck('command', commands[0])) as { code?: string };
    assert.equal(ack.code, 'forbidden');
    sio.close();
  });

  it('stats, status and the system stream are for admins', async () => {
    assert.equal((await getJson(`${gw.url}/v1/stats`, t.operatorA)).status, 403);
    assert.equal((await getJson(`${gw.url}/v1/stats`, t.admin)).status, 200);
    assert.equal((await getJson(`${gw.url}/api/websocket/status`, t.viewerA)).status, 403);
    assert.equal((await getJson(`${gw.url}/api/websocket/status`, t.admin)).status, 200);
    const p = await WsProbe.open(`${gw.wsUrl}?token=${t.admin}`);
    p.send({ op: 'subscribe', stream: 'system', ref: 's' });
    await p.waitFor('subscribed');
    p.close();
  });

  it('no credential, a forged, an expired or an alg:none token is refused everywhere with its code', async () => {
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret'));
    const expired = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('late')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', role: 'admin', exp: 9e9 })).toString('base64url')}.`;
    const noExp = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('forever')
      .sign(new TextEncoder().encode(SECRET));
    const cases: [string | undefined, string, number][] = [
      [undefined, 'unauthorized', 4401],
      [forged, 'unauthorized', 4401],
      [expired, 'token_expired', 4402],
      [none, 'unauthorized', 4401],
      [noExp, 'unauthorized', 4401],
      ['garbage', 'unauthorized', 4401],
    ];
    for (const [credential, code, close] of cases) {
      const r = await getJson(`${gw.url}/v1/tasks`, credential);
      assert.equal(r.status, 401, `${code} http`);
      assert.equal(r.body.error.code, code);
      if (credential !== undefined) {
        assert.equal(await outcome(`${gw.wsUrl}?token=${credential}`), close, `${code} ws`);
        assert.equal(
          await outcome(`${gw.url.replace('http', 'ws')}/ws/admin/agent-swarm/a1?token=${credential}`),
          close,
          `${code} swarm`,
        );
        const sio = SioProbe.open(gw.url, { auth: { token: credential }, transports: ['websocket'] });
        await assert.rejects(sio, (err: Error & { data?: { code: string } }) => err.data?.code === code);
      }
    }
  });

  it('a WebSocket without a token must send auth first; others wait for it; a refused one is closed with 4401', async () => {
    const p = await WsProbe.open(gw.wsUrl);
    p.send({ op: 'subscribe', stream: A.task, ref: 's' });
    p.send({ op: 'auth', token: t.viewerA, ref: 'a' });
    const authed = await p.waitFor('authenticated');
    assert.equal(authed.subject, 'viewer-a');
    assert.equal(authed.role, 'viewer');
    assert.ok(authed.expiresAt! > Date.now());
    await p.waitFor('subscribed', (f) => f.ref === 's');
    p.close();
    const bad = await WsProbe.open(gw.wsUrl);
    bad.send({ op: 'auth', token: 'garbage' });
    await bad.until(() => bad.closeCode !== undefined);
    assert.equal(bad.closeCode, 4401);
  });

  it('a token refreshed with auth keeps the subscription and its position; an unrefreshed one is closed with 4402', async () => {
    const short = await token({ sub: 'viewer-a', role: 'viewer', projects: [A.project] }, 2);
    const p = await WsProbe.open(`${gw.wsUrl}?token=${short}`);
    p.send({ op: 'subscribe', stream: A.task, ref: 's' });
    const sub = await p.waitFor('subscribed');
    p.send({
      op: 'auth',
      token: await token({ sub: 'viewer-a', role: 'viewer', projects: [A.project] }, 600),
      ref: 'r',
    });
    await p.waitFor('authenticated', (f) => f.ref === 'r');
    // Another subject cannot take the connection over.
    p.send({ op: 'auth', token: t.admin, ref: 'x' });
    assert.equal((await p.waitFor('error', (f) => f.ref === 'x')).code, 'forbidden');
    const other = await WsProbe.open(`${gw.wsUrl}?token=${short}`);
    // The unrefreshed connection ends at its expiry with token_expired; the refreshed one goes on.
    await other.until(() => other.closeCode !== undefined, 6000);
    assert.equal(other.closeCode, 4402);
    await gw.publish(A.task, [log('after refresh')]);
    await p.until(() => p.events.some((e) => e.seq === sub.seq + 1));
    assert.equal(p.closeCode, undefined);
    assert.deepEqual(
      p.events.map((e) => e.seq),
      [sub.seq + 1],
    );
    p.close();
  });

  it('origins: other sites are refused on upgrades and HTTP; the own origin and localhost get CORS', async () => {
    assert.equal(await outcome(`${gw.wsUrl}?token=${t.viewerA}`, { origin: 'https://evil.example' }), 403);
    assert.equal(
      await outcome(`${gw.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, {
        origin: 'https://evil.example',
      }),
      403,
    );
    const evil = await getJson(`${gw.url}/v1/tasks`, t.viewerA, {
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(evil.status, 403);
    const res = await fetch(`${gw.url}/v1/tasks`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'GET' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.equal(await outcome(`${gw.wsUrl}?token=${t.viewerA}`, { origin: gw.url }), 101);
  });

  it('producers: a viewer token cannot publish; an API key and a publish-scoped token can, within their projects', async () => {
    const body = (events: unknown[]) => ({ method: 'POST', headers: json, body: JSON.stringify({ events }) });
    const viewer = await getJson(`${gw.url}/v1/streams/${A.task}/events`, t.viewerA, body([log('x')]));
    assert.equal(viewer.status, 403);
    assert.equal(
      (await getJson(`${gw.url}/v1/streams/${A.task}/events`, t.admin, body([log('x')]))).status,
      403,
    );
    assert.equal(
      (await getJson(`${gw.url}/v1/streams/${A.task}/events`, PRODUCER_KEY, body([log('key')]))).status,
      200,
    );
    assert.equal(
      (await getJson(`${gw.url}/v1/streams/${A.task}/events`, t.publisherA, body([log('scoped')]))).status,
      200,
    );
    assert.equal(
      (await getJson(`${gw.url}/v1/streams/task:b1/events`, t.publisherA, body([log('intrusion')]))).status,
      403,
    );
    const hijack = [{ type: 'task:start', data: { taskId: 'a1', title: 'mine now', projectId: 'beta' } }];
    assert.equal(
      (await getJson(`${gw.url}/v1/streams/${A.task}/events`, t.publisherA, body(hijack))).status,
      403,
    );
    // The producer channel takes producer credentials only.
    assert.equal(
      await outcome(`${gw.url.replace('http', 'ws')}/v1/producer`, { authorization: `Bearer ${t.viewerA}` }),
      403,
    );
    assert.equal(await outcome(`${gw.url.replace('http', 'ws')}/v1/producer`), 401);
    const producer = new WebSocket(`${gw.url.replace('http', 'ws')}/v1/producer`, {
      headers: { 'x-api-key': PRODUCER_KEY },
    });
    await new Promise((resolve, reject) => {
      producer.once('open', resolve);
      producer.once('error', reject);
    });
    producer.close();
  });
});
