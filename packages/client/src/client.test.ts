import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AgentwireError, type AnyEnvelope } from '@agentwire/protocol';
import { WebSocket as WsWebSocket } from 'ws';
import { createClient, type ClientOptions, type ClientStatus, type WebSocketConstructor } from './index.js';
import {
  envelope as ev,
  ScriptedServer,
  sleep,
  subscribed,
  until,
  type ScriptOptions,
} from './testing/scripted-server.js';

const cleanups = new Set<() => Promise<void>>();
after(() => Promise.all([...cleanups].map((done) => done())));

async function setup(script: ScriptOptions = {}, options: Partial<ClientOptions> = {}) {
  const server = await ScriptedServer.start(script);
  const client = createClient({ url: server.url, reconnect: { minDelayMs: 5, maxDelayMs: 20 }, ...options });
  const statuses: ClientStatus[] = [client.status];
  client.on('status', (s) => statuses.push(s));
  const errors: AgentwireError[] = [];
  client.on('error', (e) => errors.push(e));
  const done = async () => {
    cleanups.delete(done);
    await client.close();
    await server.close();
  };
  cleanups.add(done); // a failed assertion must not leave a reconnecting client holding the process
  return { server, client, statuses, errors, done };
}

test('status goes connecting → websocket → closed, and close() ends the socket politely', async () => {
  const { server, client, statuses, done } = await setup();
  const conn = await server.connection(0);
  await until(() => client.status === 'websocket', 'open');
  await client.close();
  assert.deepEqual(await conn.closed, { code: 1000, reason: 'client closed' });
  assert.deepEqual(statuses, ['connecting', 'websocket', 'closed']);
  assert.throws(() => client.subscribe('task:1'), { code: 'unavailable' });
  await sleep(30);
  assert.equal(server.connections.length, 1, 'no reconnect after close()');
  await done();
});

test('options are checked up front', () => {
  assert.throws(() => createClient({ url: 'ftp://x' }), TypeError);
  assert.throws(() => createClient({ url: 'http://x', heartbeatMs: 0 }), RangeError);
  assert.throws(() => createClient({ url: 'http://x', reconnect: { factor: 0 } }), RangeError);
  const notAConstructor = {} as unknown as WebSocketConstructor;
  assert.throws(
    () => createClient({ url: 'http://x', WebSocket: notAConstructor }),
    /no WebSocket implementation/,
  );
});

test('ops issued while connecting are queued: subscriptions and commands go out on open', async () => {
  const { server, client, done } = await setup();
  const sub = client.subscribe('task:1');
  const result = client.command({ type: 'cancel', stream: 'task:1', reason: 'enough' });
  const conn = await server.connection(0);
  const subscribe = await conn.next('subscribe');
  const command = await conn.next('command');
  assert.deepEqual(command.command, { type: 'cancel', stream: 'task:1', reason: 'enough' });
  conn.send({ op: 'ack', ref: command.ref, result: { seq: 7 } });
  assert.deepEqual(await result, { seq: 7 });
  conn.send(subscribed(subscribe, { epoch: 'e1', seq: 0, recovered: true }));
  await sub.ready;
  await done();
});

test('error frames are surfaced typed: to the command, to the subscription, or to the client', async () => {
  const { server, client, errors, done } = await setup();
  const conn = await server.connection(0);

  const refused = client.subscribe('task:secret');
  const subErrors: AgentwireError[] = [];
  refused.on('error', (e) => subErrors.push(e));
  const op = await conn.next('subscribe');
  conn.send({
    op: 'error',
    code: 'forbidden',
    message: 'not yours',
    stream: 'task:secret',
    ...(op.ref && { ref: op.ref }),
  });
  const rejection = await refused.ready.then(
    () => assert.fail('ready should reject'),
    (e: unknown) => e,
  );
  assert.ok(rejection instanceof AgentwireError);
  assert.equal(rejection.code, 'forbidden');
  assert.equal(rejection.status, 403);
  assert.equal(subErrors[0], rejection);
  assert.equal(refused.closed, true);

  const answer = client.command({ type: 'answer', stream: 'task:1', questionId: 'q1', answer: 'yes' });
  const cmd = await conn.next('command');
  conn.send({ op: 'error', code: 'question_closed', message: 'already answered', ref: cmd.ref });
  await assert.rejects(answer, (e: unknown) => e instanceof AgentwireError && e.code === 'question_closed');

  conn.send({ op: 'error', code: 'rate_limited', message: 'slow down', details: { retryAfterMs: 10 } });
  await until(() => errors.length === 1, 'client error');
  assert.ok(errors[0] instanceof AgentwireError);
  assert.equal(errors[0].code, 'rate_limited');
  assert.deepEqual(errors[0].details, { retryAfterMs: 10 });
  assert.equal(client.status, 'websocket');
  await done();
});

test('a transient stream error retries the subscribe from the same position', async () => {
  const { server, client, errors, done } = await setup();
  const sub = client.subscribe('task:1', { since: { epoch: 'e1', seq: 4 } });
  const conn = await server.connection(0);
  const op = await conn.next('subscribe');
  conn.send({
    op: 'error',
    code: 'unavailable',
    message: 'log warming up',
    stream: 'task:1',
    ...(op.ref && { ref: op.ref }),
  });
  const again = await conn.next('subscribe');
  assert.deepEqual(again.since, { epoch: 'e1', seq: 4 });
  conn.send(subscribed(again, { epoch: 'e1', seq: 4, recovered: true }));
  assert.deepEqual(await sub.ready, { epoch: 'e1', seq: 4 });
  conn.send({ op: 'event', event: ev(5, 'task:progress', { percent: 5 }) });
  await until(() => sub.position?.seq === 5, 'seq 5');
  const subErrors: string[] = [];
  sub.on('error', (e) => subErrors.push(e.message));

  // The gateway gave up on the live subscription (e.g. a hole while catching up); stale refs are ignored.
  conn.send({
    op: 'error',
    code: 'internal',
    message: 'old',
    stream: 'task:1',
    ...(op.ref && { ref: op.ref }),
  });
  conn.send({
    op: 'error',
    code: 'internal',
    message: 'hole',
    stream: 'task:1',
    ...(again.ref && { ref: again.ref }),
  });
  assert.deepEqual(await conn.next(), { op: 'unsubscribe', stream: 'task:1' });
  const third = await conn.next('subscribe');
  assert.deepEqual(third.since, { epoch: 'e1', seq: 5 });
  assert.deepEqual(subErrors, ['hole']);
  assert.deepEqual(errors, [], 'stream errors go to the subscription, not the client');
  await done();
});

test('malformed frames raise typed errors and keep the connection', async () => {
  const { server, client, errors, done } = await setup();
  const sub = client.subscribe('task:1', { snapshot: false });
  const conn = await server.connection(0);
  const op = await conn.next('subscribe');
  conn.send(subscribed(op, { epoch: 'e1', seq: 0, recovered: true }));
  conn.sendRaw('this is not json');
  conn.sendRaw(JSON.stringify({ op: 'event', event: { stream: 'task:1', seq: 'one' } }));
  conn.sendRaw(JSON.stringify({ op: 'teleport' }));
  conn.sendRaw(JSON.stringify([1, 2]));
  conn.send({ op: 'event', event: ev(1, 'task:progress', { percent: 10 }) });
  await until(() => sub.position?.seq === 1, 'the valid event');
  assert.deepEqual(
    errors.map((e) => e.code),
    ['bad_json', 'invalid_message', 'invalid_message', 'invalid_message'],
  );
  assert.ok(errors.every((e) => e instanceof AgentwireError));
  assert.equal(server.connections.length, 1);
  assert.equal(client.status, 'websocket');
  await done();
});

test('auth close codes are surfaced and not retried; reconnect() tries again on request', async () => {
  const { server, client, errors, statuses, done } = await setup();
  const conn = await server.connection(0);
  await until(() => client.status === 'websocket', 'open');
  conn.send({ op: 'error', code: 'token_expired', message: 'token expired at 12:00' });
  conn.close(4402, 'token expired');
  await until(() => client.status === 'closed', 'closed');
  assert.deepEqual(
    errors.map((e) => [e.code, e.message]),
    [['token_expired', 'token expired at 12:00']],
    'the error frame and its close are one error',
  );
  await sleep(50);
  assert.equal(server.connections.length, 1, 'no blind reconnect');

  const c1 = server.connection(1);
  client.reconnect();
  await c1;
  await until(() => client.status === 'websocket', 'open again');
  (await c1).close(4401);
  await until(() => errors.length === 2, 'close-only error');
  assert.equal(errors[1]!.code, 'unauthorized');
  assert.deepEqual(statuses, ['connecting', 'websocket', 'closed', 'connecting', 'websocket', 'closed']);
  await done();
});

test('slow_consumer and shutting_down closes reconnect and resume without loss or repeat', async () => {
  const { server, client, errors, done } = await setup();
  const sub = client.subscribe('task:1', { snapshot: false });
  const seen: number[] = [];
  sub.onEvent((e) => seen.push(e.seq));
  const e = (n: number) => ev(n, 'log:entry', { level: 'info', message: String(n) });

  const c0 = await server.connection(0);
  c0.send(subscribed(await c0.next('subscribe'), { epoch: 'e1', seq: 0, recovered: true }));
  c0.send({ op: 'events', stream: 'task:1', events: [e(1), e(2)] });
  await until(() => sub.position?.seq === 2, 'seq 2');
  c0.close(4008, 'too slow');

  const c1 = await server.connection(1);
  const op1 = await c1.next('subscribe');
  assert.deepEqual(op1.since, { epoch: 'e1', seq: 2 });
  c1.send(subscribed(op1, { epoch: 'e1', seq: 3, recovered: true }));
  c1.send({ op: 'events', stream: 'task:1', events: [e(2), e(3)] });
  await until(() => sub.position?.seq === 3, 'seq 3');
  c1.close(1012, 'restarting');

  const c2 = await server.connection(2);
  const op2 = await c2.next('subscribe');
  assert.deepEqual(op2.since, { epoch: 'e1', seq: 3 });
  c2.send(subscribed(op2, { epoch: 'e1', seq: 4, recovered: true }));
  c2.send({ op: 'event', event: e(4) });
  await until(() => sub.position?.seq === 4, 'seq 4');
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.deepEqual(
    errors.map((x) => x.code),
    ['slow_consumer', 'shutting_down'],
  );
  await done();
});

test('heartbeat: pings every heartbeatMs, and silence for 2.5× that means reconnect', async () => {
  const { server, client, errors, statuses, done } = await setup({ pong: false }, { heartbeatMs: 30 });
  const sub = client.subscribe('task:1', { snapshot: false });
  const c0 = await server.connection(0);
  c0.send(subscribed(await c0.next('subscribe'), { epoch: 'e1', seq: 0, recovered: true }));
  const lastFrame = Date.now(); // the client hears nothing after this event
  c0.send({ op: 'event', event: ev(1, 'task:progress', { percent: 1 }) });
  await until(() => sub.position?.seq === 1, 'seq 1');
  // The scripted server never answers pings: the client must give up on it by itself.
  const c1 = await server.connection(1, 1_000);
  const waited = Date.now() - lastFrame;
  assert.ok(c0.pings >= 1, `pinged ${c0.pings} times`);
  assert.ok(waited >= 74 && waited < 1_000, `declared dead after ${waited} ms`);
  assert.equal(errors[0]?.code, 'timeout');
  assert.ok(statuses.includes('offline'));
  assert.deepEqual((await c1.next('subscribe')).since, { epoch: 'e1', seq: 1 });
  await done();
});

test('heartbeat: a connection that answers pings stays up; the hello interval is adopted', async () => {
  const { server, client, done } = await setup({ heartbeatMs: 25 });
  const conn = await server.connection(0);
  await sleep(250); // 10 heartbeats, 4 dead-line periods
  assert.equal(server.connections.length, 1);
  assert.equal(client.status, 'websocket');
  assert.ok(conn.pings >= 2, `adopted hello's 25 ms, not the default 15 s: ${conn.pings} pings`);
  await done();
});

test('heartbeat: a frozen event loop is not mistaken for a dead gateway', async () => {
  const { server, client, errors, done } = await setup({}, { heartbeatMs: 30 });
  await server.connection(0);
  await until(() => client.status === 'websocket', 'open');
  const frozenUntil = Date.now() + 200; // well past the 75 ms silence budget, pongs waiting unread
  while (Date.now() < frozenUntil);
  await sleep(60);
  assert.equal(server.connections.length, 1);
  assert.equal(client.status, 'websocket');
  assert.deepEqual(errors, []);
  await done();
});

test('reconnect delays grow exponentially up to the cap; a hello resets them', async () => {
  // The server accepts and drops every connection before hello: every attempt counts as a failure.
  const { server, client, done } = await setup(
    { hello: false },
    { reconnect: { minDelayMs: 20, factor: 2, maxDelayMs: 160, jitter: 0 } },
  );
  const arrivals: number[] = [];
  for (let i = 0; i < 6; i++) {
    const conn = await server.connection(i);
    arrivals.push(Date.now());
    if (i < 5) conn.close(1011);
  }
  const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
  const ceilings = [20, 40, 80, 160, 160];
  // Timers never fire early, so the lower bounds prove the growth; the upper bounds only catch
  // runaway delays (a loaded CI machine adds latency, never removes it).
  gaps.forEach((gap, i) => {
    assert.ok(
      gap >= ceilings[i]! - 2 && gap < ceilings[i]! + 500,
      `gap ${i}: ${gap} ms, expected ≈ ${ceilings[i]}`,
    );
  });
  // A hello proves the gateway is healthy: the next drop starts from the minimum again.
  const last = server.connections[5]!;
  last.send({ op: 'hello', version: 1, connection: 'x', heartbeatMs: 15_000 });
  await until(() => client.status === 'websocket', 'open');
  const dropped = Date.now();
  last.close(1011);
  await server.connection(6);
  const gap = Date.now() - dropped;
  assert.ok(gap < 150, `after a hello the delay is back to ~20 ms (not 160), got ${gap}`);
  await done();
});

test('reconnect: false stays closed after a drop; commands in flight are rejected', async () => {
  const { server, client, done } = await setup({}, { reconnect: false });
  const conn = await server.connection(0);
  const pending = client.command({ type: 'message', stream: 'task:1', text: 'hi' });
  await conn.next('command');
  conn.terminate();
  await assert.rejects(pending, { code: 'unavailable' });
  await until(() => client.status === 'closed', 'closed');
  await sleep(30);
  assert.equal(server.connections.length, 1);
  await done();
});

test('connection refused: the client keeps trying with backoff until the gateway is there', async () => {
  const probe = await ScriptedServer.start();
  const url = probe.url;
  await probe.close(); // the port is now free, and refuses connections
  const client = createClient({ url, reconnect: { minDelayMs: 5, maxDelayMs: 10 } });
  const statuses: ClientStatus[] = [];
  client.on('status', (s) => statuses.push(s));
  await until(() => statuses.filter((s) => s === 'offline').length >= 3, 'three failed attempts');
  const events: AnyEnvelope[] = [];
  client.subscribe('task:1').onEvent((e) => events.push(e));
  await client.close();
  assert.equal(client.status, 'closed');
  assert.deepEqual(events, []);
});

test('the WebSocket option replaces the implementation; a browser "online" event skips the backoff', async () => {
  const created: string[] = [];
  class CountingWebSocket extends WsWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      created.push(url);
    }
  }
  // Stand in for `window`, which Node lacks, to deliver the browser's "online" event.
  const target = new EventTarget();
  const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
  g.addEventListener = target.addEventListener.bind(target);
  g.removeEventListener = target.removeEventListener.bind(target);
  try {
    const { server, client, statuses, done } = await setup(
      {},
      { WebSocket: CountingWebSocket, reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 } },
    );
    const conn = await server.connection(0);
    assert.deepEqual(created, [`${server.url.replace('http', 'ws')}/v1/ws`]);
    await until(() => client.status === 'websocket', 'open');
    conn.terminate();
    await until(() => client.status === 'offline', 'offline for a minute');
    target.dispatchEvent(new Event('online'));
    await server.connection(1, 1_000);
    await until(() => client.status === 'websocket', 'back');
    assert.equal(created.length, 2);
    assert.deepEqual(statuses, ['connecting', 'websocket', 'offline', 'connecting', 'websocket']);
    await done();
  } finally {
    delete g.addEventListener;
    delete g.removeEventListener;
  }
});
