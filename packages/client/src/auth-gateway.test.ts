/**
 * The SDK on a gateway with auth: tokens from getToken() as the first frame, refreshed before they
 * expire without losing the subscription's place, refusals surfaced as typed errors; and the
 * gateway's slow-consumer close (4008) followed by a resume that loses nothing.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { AnyEnvelope, AnyEventInput } from '@agentwire/protocol';
import { createGateway, mintToken, type Gateway } from '@agentwire/server';
import WebSocket from 'ws';
import { AgentwireError, createClient, type Client, type ClientStatus } from './index.js';
import type { WebSocketConstructor } from './socket.js';
import { until } from './testing/scripted-server.js';

const SECRET = 'client-test-secret-client-test-secret-0123';
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function gateway(options: Parameters<typeof createGateway>[0] = {}): Promise<Gateway> {
  const gw = await createGateway({ engine: { kind: 'memory' }, port: 0, logLevel: 'silent', ...options });
  cleanups.push(() => gw.close());
  return gw;
}

function client(options: Parameters<typeof createClient>[0]): Client {
  const c = createClient({ reconnect: { minDelayMs: 5, maxDelayMs: 50 }, ...options });
  cleanups.push(() => c.close());
  return c;
}

const log = (i: number): AnyEventInput => ({
  type: 'log:entry',
  data: { level: 'info', message: `line ${i}` },
});

test('getToken: the token goes in the first frame and is refreshed before expiry; the subscription never restarts', async () => {
  const gw = await gateway({ auth: { secret: SECRET, clockToleranceSeconds: 0 } });
  const claims = { sub: 'ana', role: 'viewer' as const, streams: ['task:*'] };
  let calls = 0;
  // The first token lives 2 s: the client refreshes it at once (less than its 5 s lead time).
  const getToken = () => mintToken(SECRET, claims, ++calls === 1 ? 2 : 600);
  const c = client({ url: gw.url, getToken, transports: ['websocket'] });
  const statuses: ClientStatus[] = [];
  c.on('status', (s) => statuses.push(s));
  const sub = c.subscribe('task:refresh', { since: { seq: 0 } });
  const received: AnyEnvelope[] = [];
  sub.onEvent((e) => received.push(e));
  await sub.ready;
  await gw.publish('task:refresh', [log(1)]);
  await until(() => received.length === 1 && calls >= 2, 'the first event and a refresh');
  // Past the first token's expiry: the connection is still the same one.
  await new Promise((r) => setTimeout(r, 2200));
  await gw.publish('task:refresh', [log(2), log(3)]);
  await until(() => received.length === 3, 'the events after the old expiry');
  assert.deepEqual(
    received.map((e) => e.seq),
    [1, 2, 3],
  );
  assert.equal(c.status, 'websocket');
  assert.ok(!statuses.includes('offline'), `statuses: ${statuses.join(',')}`);
});

test('a refusal is a typed error event: forbidden for a stream out of scope, unauthorized for a bad token', async () => {
  const gw = await gateway({ auth: { secret: SECRET } });
  const token = await mintToken(SECRET, { sub: 'bo', role: 'viewer', streams: ['task:mine'] }, 600);
  const c = client({ url: gw.url, getToken: () => token, transports: ['websocket'] });
  const sub = c.subscribe('task:theirs');
  const error = await new Promise<AgentwireError>((resolve) => sub.on('error', resolve));
  assert.equal(error.code, 'forbidden');
  const bad = client({ url: gw.url, getToken: () => 'not-a-token', transports: ['websocket'] });
  const refused = await new Promise<AgentwireError>((resolve) => bad.on('error', resolve));
  assert.equal(refused.code, 'unauthorized');
  await until(() => bad.status === 'closed', 'the refused client to stop');
});

test('a slow consumer is closed with 4008 and resumes from its last seq with nothing lost', async () => {
  // Without merging, which would hold a short stall in the gateway instead of evicting.
  const gw = await gateway({ limits: { maxBufferedBytes: 32 * 1024 }, coalesce: false });
  const sockets: WebSocket[] = [];
  // The real `ws`, remembered so the test can stop reading at the TCP level.
  const Tracked = class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  } as unknown as WebSocketConstructor;
  const c = client({ url: gw.url, WebSocket: Tracked, transports: ['websocket'] });
  const errors: string[] = [];
  c.on('error', (e) => errors.push(e.code));
  const sub = c.subscribe('task:slow', { since: { seq: 0 } });
  const received: AnyEnvelope[] = [];
  sub.onEvent((e) => received.push(e));
  await sub.ready;
  const raw = (sockets[0] as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  raw.pause();
  const big = (i: number): AnyEventInput => ({
    type: 'log:entry',
    data: { level: 'info', message: `${i} ${'x'.repeat(3000)}` },
  });
  let total = 0;
  for (let i = 0; i < 300 && !errors.includes('slow_consumer'); i++) {
    await gw.publish(
      'task:slow',
      Array.from({ length: 10 }, (_, j) => big(total + j)),
    );
    total += 10;
    if (i === 50) raw.resume(); // the kernel buffers are full by now; let the close through
    await new Promise((r) => setImmediate(r));
  }
  raw.resume();
  await until(() => errors.includes('slow_consumer'), 'the 4008 close', 10_000);
  await gw.publish('task:slow', [log(-1)]);
  total += 1;
  await until(() => received.length >= total, 'every event after the resume', 10_000);
  assert.deepEqual(
    received.map((e) => e.seq),
    Array.from({ length: total }, (_, i) => i + 1),
  );
  assert.ok(sockets.length >= 2, 'it reconnected');
});
