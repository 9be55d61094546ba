/**
 * The terminal's data against a real gateway and the real client: history read over HTTP up to the
 * subscription's position, live events after it, each event exactly once, older pages on demand.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from '@agentwire/client';
import { createGateway } from '@agentwire/server';
import { httpHistory } from '../src/lib/history.js';
import { TerminalStore, type TerminalSnapshot } from '../src/lib/terminal-store.js';

const gw = await createGateway({ port: 0, logLevel: 'silent', engine: { kind: 'memory' } });
const client = createClient({ url: gw.url });
after(async () => {
  await client.close();
  await gw.close();
});

const logs = (stream: string, from: number, n: number) =>
  gw.publish(
    stream,
    Array.from({ length: n }, (_, i) => ({
      type: 'log:entry',
      data: { level: 'info', message: `l${from + i}` },
    })),
  );

function until(store: TerminalStore, check: (s: TerminalSnapshot) => boolean): Promise<TerminalSnapshot> {
  return new Promise((resolve) => {
    const look = () => {
      const s = store.getSnapshot();
      if (!check(s)) return false;
      off();
      resolve(s);
      return true;
    };
    const off = store.subscribe(() => void look());
    look();
  });
}

test('history up to the live position, then live events: every seq once, in order', async () => {
  const stream = 'task:term-1';
  await gw.publish(stream, [{ type: 'task:start', data: { taskId: 'term-1', title: 'T' } }]);
  await logs(stream, 0, 30);
  const sub = client.subscribe(stream);
  const store = new TerminalStore(stream, { fetchHistory: httpHistory(gw.url), initial: 100 });
  store.attach(sub);
  // Published while the history is being read: must land after it, once.
  await logs(stream, 30, 20);
  const s = await until(store, (x) => x.lines.length === 51 && !x.loading);
  assert.deepEqual(
    s.lines.map((l) => l.seq),
    Array.from({ length: 51 }, (_, i) => i + 1),
  );
  assert.equal(s.duplicates, 0);
  assert.equal(s.hasOlder, false);
  store.detach();
  sub.close();
});

test('only the last `initial` lines load at first; older pages load on demand; pause buffers', async () => {
  const stream = 'task:term-2';
  await logs(stream, 0, 120);
  const sub = client.subscribe(stream);
  const store = new TerminalStore(stream, { fetchHistory: httpHistory(gw.url), initial: 50, page: 40 });
  store.attach(sub);
  let s = await until(store, (x) => x.lines.length === 50 && !x.loading);
  assert.equal(s.lines[0]!.seq, 71);
  assert.equal(s.hasOlder, true);
  await store.loadOlder();
  s = store.getSnapshot();
  assert.equal(s.lines[0]!.seq, 31);
  assert.equal(s.lines.length, 90);
  await store.loadOlder();
  s = store.getSnapshot();
  assert.equal(s.lines[0]!.seq, 1);
  assert.equal(s.hasOlder, false);

  store.setPaused(true);
  await logs(stream, 120, 3);
  s = await until(store, (x) => x.waiting === 3);
  assert.equal(s.lines.length, 120);
  store.setPaused(false);
  s = store.getSnapshot();
  assert.equal(s.lines.length, 123);
  assert.equal(s.lines[122]!.seq, 123);
  store.detach();
  sub.close();
});

test('the memory cap drops the oldest lines, which stay loadable from history', async () => {
  const stream = 'task:term-3';
  const sub = client.subscribe(stream);
  await sub.ready;
  const store = new TerminalStore(stream, { fetchHistory: httpHistory(gw.url), cap: 100 });
  store.attach(sub);
  await until(store, (x) => !x.loading);
  await logs(stream, 0, 150);
  const s = await until(store, (x) => x.lines[x.lines.length - 1]?.seq === 150);
  assert.ok(s.lines.length <= 110, `kept ${s.lines.length}`);
  assert.equal(s.hasOlder, true);
  assert.deepEqual(
    s.lines.map((l) => l.seq),
    Array.from({ length: s.lines.length }, (_, i) => 151 - s.lines.length + i),
  );
  store.detach();
  sub.close();
});
