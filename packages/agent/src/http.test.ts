import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { AgentwireError } from '@agentwire/protocol';
import { connect } from './connect.js';
import type { FailedEvent } from './outbox.js';
import { RecordingServer } from './testing/recording-server.js';
import { waitUntil } from './testing/wait.js';

const fastRetry = { baseDelayMs: 5, maxDelayMs: 20 };
let server: RecordingServer;

beforeEach(async () => {
  server = await RecordingServer.start();
});
afterEach(async () => {
  await server.close();
});

test('retries after a 5xx, a dropped socket and a lost ack reuse the same event id; nothing is stored twice', async () => {
  server.failNext(
    { status: 503, body: { error: { code: 'unavailable', message: 'starting' } } },
    'destroy',
    'lost-ack',
  );
  const aw = connect({ url: server.url, retry: fastRetry });
  const task = await aw.startTask({ title: 'Research' });

  assert.equal(server.requests.length, 4);
  const ids = server.requests.map((r) => r.events.map((e) => e.id).join(','));
  assert.equal(new Set(ids).size, 1, 'every attempt carried the same id');
  assert.match(ids[0]!, /^[0-9a-f-]{36}$/);
  assert.deepEqual(server.storedTypes(task.stream), ['task:start']);
  await aw.close();
});

test('events of one stream go out in call order without awaits, queued ones batched behind the request in flight', async () => {
  const aw = connect({ url: server.url });
  const task = await aw.startTask({ title: 'Ordering' });
  server.delayMs = 30;
  const seqs: Promise<number>[] = [];
  for (let i = 0; i < 30; i++) seqs.push(task.log('info', `line ${i}`));
  await aw.flush();

  const lines = (server.stored.get(task.stream) ?? [])
    .slice(1)
    .map((e) => (e.data as { message: string }).message);
  assert.deepEqual(
    lines,
    Array.from({ length: 30 }, (_, i) => `line ${i}`),
  );
  assert.deepEqual(
    server.requests.map((r) => r.events.length),
    [1, 1, 29],
    'the first log went alone; the other 29 waited for it and went together',
  );
  assert.deepEqual(
    await Promise.all(seqs),
    Array.from({ length: 30 }, (_, i) => i + 2),
  );
  await aw.close();
});

test('maxBatchSize bounds each request', async () => {
  const aw = connect({ url: server.url, maxBatchSize: 10 });
  const task = await aw.startTask({ title: 'Batches' });
  server.delayMs = 20;
  for (let i = 0; i < 30; i++) void task.log('debug', `line ${i}`);
  await aw.flush();
  assert.deepEqual(
    server.requests.map((r) => r.events.length),
    [1, 1, 10, 10, 9],
  );
  await aw.close();
});

test('a 4xx other than 429 surfaces as the typed error, is not retried, and is reported to onError', async () => {
  const reported: { error: AgentwireError; events: FailedEvent[] }[] = [];
  const aw = connect({
    url: server.url,
    retry: fastRetry,
    onError: (error, f) => reported.push({ error, events: f.events }),
  });
  server.failNext({
    status: 403,
    body: { error: { code: 'forbidden', message: 'Not your task.', details: { x: 1 } } },
  });

  await assert.rejects(aw.startTask({ title: 'Denied' }), (err: unknown) => {
    assert.ok(err instanceof AgentwireError);
    assert.equal(err.code, 'forbidden');
    assert.equal(err.message, 'Not your task.');
    assert.deepEqual(err.details, { x: 1 });
    assert.equal(err.status, 403);
    return true;
  });
  assert.equal(server.requests.length, 1);
  assert.equal(reported.length, 1);
  assert.equal(reported[0]!.error.code, 'forbidden');
  assert.equal(reported[0]!.events[0]!.type, 'task:start');
  await aw.close();
});

test('a 429 with Retry-After is waited out before the retry', async () => {
  const aw = connect({ url: server.url, retry: fastRetry });
  server.failNext({
    status: 429,
    headers: { 'retry-after': '1' },
    body: { error: { code: 'rate_limited', message: 'slow down' } },
  });
  await aw.startTask({ title: 'Throttled' });
  assert.equal(server.requests.length, 2);
  const waited = server.requests[1]!.at - server.requests[0]!.at;
  assert.ok(waited >= 990, `waited ${waited} ms`);
  assert.ok(waited < 1_500, `waited ${waited} ms`);
  await aw.close();
});

test('out of attempts: rejects with unavailable after exactly `attempts` requests', async () => {
  const aw = connect({ url: server.url, retry: { ...fastRetry, attempts: 3 } });
  server.failNext('destroy', 'destroy', 'destroy', 'destroy');
  await assert.rejects(aw.startTask({ title: 'Down' }), { name: 'AgentwireError', code: 'unavailable' });
  assert.equal(server.requests.length, 3);
  await aw.close();
});

test('a non-JSON 502 from a proxy is retried; a non-JSON 400 is not', async () => {
  const aw = connect({ url: server.url, retry: fastRetry });
  server.failNext({ status: 502, body: 'Bad Gateway' });
  await aw.startTask({ title: 'Proxy hiccup' });
  assert.equal(server.requests.length, 2);

  server.failNext({ status: 400, headers: { 'content-type': 'text/plain' } });
  await assert.rejects(aw.startTask({ title: 'Weird' }), { code: 'invalid_message' });
  assert.equal(server.requests.length, 3);
  await aw.close();
});

test('a payload refused locally fails fast with invalid_payload and sends nothing', async () => {
  const aw = connect({ url: server.url });
  const task = await aw.startTask({ title: 'Validation' });
  const agent = await task.spawnAgent({ name: 'a' });
  const before = server.requests.length;
  await assert.rejects(agent.progress({ percent: 150 }), { code: 'invalid_payload' });
  await assert.rejects(task.log('loud' as 'info', 'x'), { code: 'invalid_payload' });
  let ran = false;
  await assert.rejects(
    agent.tool('search', { q: 10n }, () => {
      ran = true;
    }),
    { code: 'invalid_payload' },
  );
  assert.equal(ran, false, 'the tool did not run when its opening event was refused');
  await aw.flush();
  assert.equal(server.requests.length, before);
  await aw.close();
});

test('sends the bearer token, JSON content type and the URL-encoded stream name', async () => {
  const aw = connect({ url: `${server.url}/`, token: 's3cret', headers: { 'x-trace': 't1' } });
  const task = await aw.startTask({ title: 'Auth', taskId: 'job-42' });
  const req = server.requests[0]!;
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/v1/streams/task%3Ajob-42/events');
  assert.equal(req.headers.authorization, 'Bearer s3cret');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['x-trace'], 't1');
  assert.equal(task.stream, 'task:job-42');
  await aw.close();
});

test('a batch the gateway finds too big is split, and order still holds', async () => {
  const aw = connect({ url: server.url });
  const task = await aw.startTask({ title: 'Split' });
  server.delayMs = 20;
  void task.log('info', 'line 0');
  server.failNext('ok', { status: 413, body: { error: { code: 'too_many_events', message: 'max 8' } } });
  for (let i = 1; i < 20; i++) void task.log('info', `line ${i}`);
  await aw.flush();
  const lines = (server.stored.get(task.stream) ?? [])
    .slice(1)
    .map((e) => (e.data as { message: string }).message);
  assert.deepEqual(
    lines,
    Array.from({ length: 20 }, (_, i) => `line ${i}`),
  );
  assert.deepEqual(
    server.requests.slice(1).map((r) => r.events.length),
    [1, 19, 10, 9],
  );
  await aw.close();
});

test('an unreachable gateway never causes an unhandled rejection; onError hears about every lost event', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const deadUrl = server.url;
    await server.close();
    const lost: string[] = [];
    const aw = connect({
      url: deadUrl,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
      onError: (_e, f) => lost.push(...f.events.map((e) => e.type)),
    });
    // Fire and forget, the way producers log.
    void aw.startTask({ title: 'Nobody home' });
    await aw.flush();
    await waitUntil(() => lost.length > 0, 'the lost event to be reported');
    assert.deepEqual(lost, ['task:start']);
    assert.deepEqual(unhandled, []);
    await aw.close();
  } finally {
    process.off('unhandledRejection', onUnhandled);
    server = await RecordingServer.start();
  }
});

test('after close() new events are refused', async () => {
  const aw = connect({ url: server.url });
  const task = await aw.startTask({ title: 'Closing' });
  void task.log('info', 'last words');
  await aw.close();
  assert.deepEqual(server.storedTypes(task.stream), ['task:start', 'log:entry']);
  await assert.rejects(task.log('info', 'too late'), { code: 'unavailable' });
});
