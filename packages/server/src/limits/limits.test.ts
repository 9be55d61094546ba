import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { Gateway } from '../gateway.js';
import { SioProbe } from '../testing/sio-probe.js';
import { WsProbe } from '../testing/ws-probe.js';
import { A, getJson, log, PRODUCER_KEY, secureGateway, token } from '../testing/auth-kit.js';

describe('limits', () => {
  let gw: Gateway;
  before(async () => {
    gw = await secureGateway({ limits: { maxIngestEventsPerSecond: 50, ingestBurst: 100 } });
  });
  after(() => gw.close());

  it('refuses the sixth connection of a user on any transport (4430 / too_many_connections), and frees slots on close', async () => {
    const user = await token({ sub: 'busy', role: 'viewer', projects: [A.project] });
    const open: WsProbe[] = [];
    for (let i = 0; i < 4; i++) open.push(await WsProbe.open(`${gw.wsUrl}?token=${user}`));
    const sio = await SioProbe.open(gw.url, { auth: { token: user }, transports: ['websocket'] });
    // Five are open (four WebSockets, one Socket.IO): the sixth is refused whatever it rides.
    const sixth = await WsProbe.open(`${gw.wsUrl}?token=${user}`);
    await sixth.until(() => sixth.closeCode !== undefined);
    assert.equal(sixth.closeCode, 4430);
    assert.equal(sixth.find('error')?.code, 'too_many_connections');
    await assert.rejects(
      SioProbe.open(gw.url, { auth: { token: user }, transports: ['websocket'] }),
      (err: Error & { data?: { code: string } }) => err.data?.code === 'too_many_connections',
    );
    const sse = await getJson(`${gw.url}/v1/streams/${A.task}/sse?token=${user}`);
    assert.equal(sse.status, 429);
    // Another user is not affected; closing one connection frees a slot.
    const other = await WsProbe.open(
      `${gw.wsUrl}?token=${await token({ sub: 'calm', role: 'viewer', projects: [A.project] })}`,
    );
    other.send({ op: 'ping', ref: 'p' });
    await other.waitFor('pong');
    open[0]!.close();
    await open[0]!.until(() => open[0]!.closeCode !== undefined);
    const again = await WsProbe.open(`${gw.wsUrl}?token=${user}`);
    again.send({ op: 'subscribe', stream: A.task, ref: 's' });
    await again.waitFor('subscribed');
    for (const p of [...open.slice(1), again, other]) p.close();
    sio.close();
  });

  it('throttles a flood: past the burst messages are dropped with rate_limited, and sustained flooding is closed with 4431', async () => {
    const flooder = await WsProbe.open(
      `${gw.wsUrl}?token=${await token({ sub: 'flooder', role: 'viewer', projects: [A.project] })}`,
    );
    await flooder.waitFor('authenticated');
    for (let i = 0; i < 1500 && flooder.closeCode === undefined; i++)
      flooder.send({ op: 'ping', ref: `p${i}` });
    await flooder.until(() => flooder.closeCode !== undefined);
    assert.equal(flooder.closeCode, 4431);
    const pongs = flooder.frames.filter((f) => f.op === 'pong').length;
    // The burst (100) was answered, at most a few more as the bucket refilled; the rest were dropped.
    assert.ok(pongs >= 100 && pongs < 200, `pongs: ${pongs}`);
    assert.ok(flooder.frames.some((f) => f.op === 'error' && f.code === 'rate_limited'));
    // The gateway is fine and so are others.
    assert.equal((await getJson(`${gw.url}/healthz`)).status, 200);
  });

  it('limits each producer’s ingest rate with rate_limited (429)', async () => {
    const post = (n: number) =>
      getJson(`${gw.url}/v1/streams/task:rate/events`, PRODUCER_KEY, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: Array.from({ length: n }, (_, i) => log(`e${i}`)) }),
      });
    assert.equal((await post(100)).status, 200);
    const refused = await post(100);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'rate_limited');
  });
});

/** Opens an HTTP stream whose reader stops reading; resolves with everything read once resumed. */
function stalledSse(url: string): Promise<{ pause: () => void; resume: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      const ended = new Promise<string>((done) => res.on('close', () => done(text)));
      resolve({ pause: () => res.socket.pause(), resume: () => (res.socket.resume(), ended) });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('slow consumers are disconnected with slow_consumer on every transport', () => {
  let gw: Gateway;
  let admin: string;
  const big = log('z'.repeat(4000));
  before(async () => {
    gw = await secureGateway({ limits: { maxBufferedBytes: 64 * 1024, maxIngestEventsPerSecond: 0 } });
    admin = await token({ sub: 'root', role: 'admin' });
  });
  after(() => gw.close());

  /** Publishes until `done()` or a generous bound; a stalled reader fills kernel buffers first. */
  async function flood(stream: string, done: () => boolean): Promise<void> {
    for (let i = 0; i < 400 && !done(); i++) {
      await gw.publish(
        stream,
        Array.from({ length: 20 }, () => big),
      );
      await new Promise((r) => setImmediate(r));
    }
  }

  it('SSE: ends the stream with an error event slow_consumer', async () => {
    const stream = 'task:slow-sse';
    const sse = await stalledSse(`${gw.url}/v1/streams/${stream}/sse?token=${admin}`);
    sse.pause();
    const before = () => Number((gw.stats() as { sseConnections: number }).sseConnections);
    await flood(stream, () => before() === 0);
    const text = await sse.resume();
    assert.match(text, /event: error\ndata: \{"code":"slow_consumer"/);
  });

  it('Socket.IO: emits the typed error, then disconnects', async () => {
    const stream = 'task:slow-sio';
    // A raw engine.io WebSocket so the test can stop reading at the TCP level.
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    const seen = (what: (f: string) => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => (frames.some(what) ? resolve() : setTimeout(check, 10));
        check();
      });
    await new Promise((r) => ws.once('open', r));
    ws.send(`40${JSON.stringify({ token: admin })}`);
    // Socket.IO drops a socket that sends to a namespace before the connect is acknowledged.
    await seen((f) => f.startsWith('40'));
    ws.send(`42${JSON.stringify(['subscribe', { stream }])}`);
    await seen((f) => f.includes('"subscribed"'));
    const socket = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    await flood(
      stream,
      () => Number((gw.stats() as { socketioConnections: number }).socketioConnections) === 0,
    );
    socket.resume();
    await closed;
    assert.ok(
      frames.some((f) => f.startsWith('42') && f.includes('slow_consumer')),
      'typed error before the disconnect',
    );
  });

  it('seed 004 terminal: closes with 4008', async () => {
    const ws = new WebSocket(
      `${gw.url.replace('http', 'ws')}/ws/admin/agent-swarm/slow-swarm?token=${admin}`,
    );
    const code = new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    // Listening before the open: the first frame can arrive in the same read as the upgrade
    // response, and ws emits it right after 'open', before an await there would resume.
    const firstMessage = new Promise((r) => ws.once('message', r));
    await new Promise((r) => ws.once('open', r));
    await firstMessage;
    const socket = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    await flood(
      'project:slow-swarm',
      () => Number((gw.stats() as { swarmTerminalConnections: number }).swarmTerminalConnections) === 0,
    );
    socket.resume();
    assert.equal(await code, 4008);
  });
});
