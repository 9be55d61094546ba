import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { afterEach, test } from 'node:test';
import { connect } from './connect.js';
import { createHttpPublisher } from './http-publisher.js';
import { RecordingServer } from './testing/recording-server.js';

const servers: RecordingServer[] = [];
const start = async () => {
  const s = await RecordingServer.start();
  servers.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A URL nothing listens on: connecting is refused at once, like a node that is down. */
async function deadUrl(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
  return `http://127.0.0.1:${port}`;
}

const event = (id: string) => ({
  id,
  type: 'log:entry' as const,
  data: { level: 'info' as const, message: id },
});

test('a node that is down is skipped at once, and later calls stay on the node that answered', async () => {
  const b = await start();
  const publisher = createHttpPublisher({ url: [await deadUrl(), b.url] });
  const began = performance.now();
  await publisher.publish('task:1', [event('e1')]);
  const firstMs = performance.now() - began;
  await publisher.publish('task:1', [event('e2')]);
  assert.deepEqual(
    b.requests.map((r) => r.events[0]!.id),
    ['e1', 'e2'],
  );
  console.log(`# first publish past a node that is down: ${firstMs.toFixed(1)} ms`);
});

test('a node shutting down (503) hands the batch to the next node without a backoff', async () => {
  const a = await start();
  const b = await start();
  a.failNext({ status: 503, body: { error: { code: 'shutting_down', message: 'restarting' } } });
  const publisher = createHttpPublisher({ url: [a.url, b.url] });
  await publisher.publish('task:1', [event('e1')]);
  await publisher.publish('task:1', [event('e2')]);
  assert.equal(a.requests.length, 1, 'node A was tried once');
  assert.deepEqual(
    b.requests.map((r) => r.events[0]!.id),
    ['e1', 'e2'],
    'the same batch, same id, then the next one, on node B',
  );
});

test('a refusal about the request, not the node, does not move (429)', async () => {
  const a = await start();
  const b = await start();
  a.failNext({ status: 429, body: { error: { code: 'rate_limited', message: 'slow down' } } });
  const publisher = createHttpPublisher({ url: [a.url, b.url] });
  await assert.rejects(publisher.publish('task:1', [event('e1')]), { code: 'rate_limited' });
  assert.equal(b.requests.length, 0);
});

test('every node down: the last error comes back, so the outbox backs off and tries again', async () => {
  const publisher = createHttpPublisher({ url: [await deadUrl(), await deadUrl()] });
  await assert.rejects(publisher.publish('task:1', [event('e1')]), { code: 'unavailable' });
});

test('connect() takes a list of nodes for publishing, and refuses an empty one', async () => {
  const b = await start();
  const producer = connect({ url: [await deadUrl(), b.url], commands: false });
  const task = await producer.startTask({ title: 'failover' });
  await task.log('info', 'hello');
  await producer.close();
  assert.deepEqual(b.storedTypes(task.stream), ['task:start', 'log:entry']);
  assert.throws(() => connect({ url: [] }), TypeError);
});
