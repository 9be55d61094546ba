/**
 * The SDK against the real gateway (`@agentwire/server`), over real sockets: typed events, the
 * reducer-backed state matching the server's snapshot, and exactly-once delivery while the TCP
 * connection under the client is destroyed mid-stream and the gateway itself restarts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  isErrorCode,
  reduceTaskEvents,
  type AnyEnvelope,
  type AnyEventInput,
  type TaskState,
} from '@agentwire/protocol';
import { createGateway, type Gateway } from '@agentwire/server';
import { AgentwireError, createClient, type Client, type ResetInfo } from './index.js';
import { pace, until, letTimePass } from './testing/scripted-server.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function gateway(options: Parameters<typeof createGateway>[0] = {}): Promise<Gateway> {
  const gw = await createGateway({ engine: { kind: 'memory' }, port: 0, logLevel: 'silent', ...options });
  cleanups.push(() => gw.close());
  return gw;
}

function client(url: string, heartbeatMs?: number): Client {
  const c = createClient({
    url,
    reconnect: { minDelayMs: 5, maxDelayMs: 50 },
    ...(heartbeatMs && { heartbeatMs }),
  });
  cleanups.push(() => c.close());
  return c;
}

async function snapshotOf(gw: Gateway, taskId: string): Promise<{ seq: number; state: TaskState }> {
  const res = await fetch(`${gw.url}/v1/tasks/${encodeURIComponent(taskId)}`);
  assert.equal(res.status, 200);
  return (await res.json()) as { seq: number; state: TaskState };
}

/** A TCP proxy in front of the gateway, so a test can cut the client's connection from outside. */
async function proxy(target: () => number): Promise<{ url: string; cut(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: target() });
    for (const [a, b] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(close);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
    close,
  };
}

const taskEvents = (taskId: string): AnyEventInput[] => [
  { type: 'task:start', data: { taskId, title: 'Compare vector databases', stages: ['plan', 'search'] } },
  { type: 'agent:spawned', data: { agentId: 'planner', name: 'Planner', model: 'm1' } },
  { type: 'task:stage', data: { stage: 'plan' } },
  {
    type: 'tool:executing',
    data: { callId: 'c1', tool: 'web_search', agentId: 'planner', args: { q: 'pgvector' } },
  },
  { type: 'message:start', data: { messageId: 'm1', role: 'assistant', agentId: 'planner' } },
  { type: 'message:delta', data: { messageId: 'm1', delta: 'Looking ' } },
  { type: 'message:delta', data: { messageId: 'm1', delta: 'it up.' } },
  { type: 'tool:complete', data: { callId: 'c1', durationMs: 12, result: { hits: 3 } } },
  { type: 'question:asked', data: { questionId: 'q1', prompt: 'Include SaaS options?' } },
  { type: 'log:entry', data: { level: 'info', message: 'halfway', agentId: 'planner' } },
  { type: 'task:progress', data: { percent: 50, message: 'halfway' } },
];

test('typed events from the real gateway; the reduced state equals the server snapshot', async () => {
  const gw = await gateway();
  const c = client(gw.url);
  const sub = c.subscribe('task:t1');
  await sub.ready;
  const tools: string[] = [];
  sub.on('tool:executing', (data, envelope) => tools.push(`${data.tool}#${data.callId}@${envelope.seq}`));
  const deltas: string[] = [];
  sub.on('message:delta', (data) => deltas.push(data.delta));

  const events = taskEvents('t1');
  await gw.publish('task:t1', events.slice(0, 4));
  await gw.publish('task:t1', events.slice(4));
  await until(() => sub.position?.seq === events.length, 'all events');

  assert.deepEqual(tools, ['web_search#c1@4']);
  assert.equal(deltas.join(''), 'Looking it up.');
  const server = await snapshotOf(gw, 't1');
  assert.equal(server.seq, events.length);
  assert.deepEqual(JSON.parse(JSON.stringify(sub.state)), server.state);
  assert.equal(sub.state?.messages['m1']?.text, 'Looking it up.');

  // A late joiner starts from the server's snapshot and ends up in the same place.
  const late = client(gw.url).subscribe('task:t1');
  await late.ready;
  assert.deepEqual(late.position, { epoch: sub.position!.epoch, seq: events.length });
  assert.deepEqual(JSON.parse(JSON.stringify(late.state)), server.state);
  await gw.publish('task:t1', [{ type: 'task:complete', data: { summary: 'done' } }]);
  await until(() => late.state?.status === 'completed' && sub.state?.status === 'completed', 'completion');
  assert.deepEqual(late.state, sub.state);
});

test('destroying the socket mid-stream while a producer publishes: every event exactly once, in order', async () => {
  const gw = await gateway();
  const tcp = await proxy(() => gw.port);
  const c = client(tcp.url);
  const statuses: string[] = [];
  c.on('status', (s) => statuses.push(s));
  const sub = c.subscribe('task:cut', { since: { seq: 0 } });
  const seen: AnyEnvelope[] = [];
  sub.onEvent((e) => seen.push(e));
  await sub.ready;

  const total = 400;
  let cuts = 0;
  const producer = (async () => {
    await gw.publish('task:cut', [{ type: 'task:start', data: { taskId: 'cut', title: 'cut me' } }]);
    for (let i = 2; i <= total; i += 3) {
      const batch = Array.from({ length: Math.min(3, total - i + 1) }, (_, k) => ({
        id: `p-${i + k}`,
        type: 'log:entry' as const,
        data: { level: 'info' as const, message: `n=${i + k}` },
      }));
      // Hold the last batch back until the connection was cut a few times mid-stream.
      if (i + 3 > total) await until(() => cuts >= 3, 'three cuts mid-stream', 10_000);
      await gw.publish('task:cut', batch);
      await pace(1);
    }
  })();
  let published = false;
  void producer.finally(() => (published = true));
  while (!published) {
    await pace(15);
    cuts += tcp.cut() > 0 ? 1 : 0;
  }
  await producer;
  await until(() => sub.position?.seq === total, `seq ${total}`, 5_000);

  assert.ok(cuts >= 3, `cut the connection ${cuts} times`);
  assert.ok(statuses.filter((s) => s === 'offline').length >= 3, `went offline: ${statuses.join(',')}`);
  assert.deepEqual(
    seen.map((e) => e.seq),
    Array.from({ length: total }, (_, i) => i + 1),
  );
  assert.equal(new Set(seen.map((e) => e.epoch)).size, 1);
  const server = await snapshotOf(gw, 'cut');
  assert.deepEqual(JSON.parse(JSON.stringify(sub.state)), server.state);
  assert.deepEqual(sub.state, reduceTaskEvents(seen));
});

test('a durable gateway restarting on the same port: resumed; a memory one: reset to its snapshot', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentwire-client-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const engine = { kind: 'sqlite' as const, path: join(dir, 'log.db') };
  let gw = await gateway({ engine });
  const port = gw.port;
  const c = client(gw.url);
  const errors: AgentwireError[] = [];
  c.on('error', (e) => errors.push(e));
  const sub = c.subscribe('task:r');
  // A catch-up may merge consecutive deltas into one event standing for fromSeq..seq.
  const seen: number[] = [];
  sub.onEvent((e) => {
    for (let q = e.fromSeq ?? e.seq; q <= e.seq; q++) seen.push(q);
  });
  const resets: ResetInfo[] = [];
  sub.on('reset', (info) => resets.push(info));
  await sub.ready;
  await gw.publish('task:r', taskEvents('r').slice(0, 5));
  await until(() => sub.position?.seq === 5, 'seq 5');
  const epoch = sub.position!.epoch;

  await gw.close(); // 1012 shutting_down: the client reconnects
  gw = await gateway({ engine, port });
  await gw.publish('task:r', taskEvents('r').slice(5));
  await until(() => sub.position?.seq === 11, 'seq 11 after restart');
  assert.deepEqual(
    seen,
    Array.from({ length: 11 }, (_, i) => i + 1),
  );
  assert.equal(sub.position!.epoch, epoch, 'same history, same epoch');
  assert.equal(resets.length, 0);
  assert.deepEqual(JSON.parse(JSON.stringify(sub.state)), (await snapshotOf(gw, 'r')).state);
  assert.ok(errors.some((e) => e.code === 'shutting_down'));

  // A memory gateway loses its history on restart: the client is told, and takes the new snapshot.
  await gw.close();
  gw = await gateway({ port });
  await gw.publish('task:r', [{ type: 'task:start', data: { taskId: 'r', title: 'second life' } }]);
  await until(() => resets.length === 1, 'reset');
  assert.equal(resets[0]!.epochChanged, true);
  assert.deepEqual(resets[0]!.from, { epoch, seq: 11 });
  await until(() => sub.state?.title === 'second life', 'new state');
  assert.deepEqual(JSON.parse(JSON.stringify(sub.state)), (await snapshotOf(gw, 'r')).state);
});

test('gateway refusals arrive typed: subscription limit, command without a producer', async () => {
  const gw = await gateway({ limits: { maxSubscriptionsPerConnection: 1 } });
  const c = client(gw.url);
  const first = c.subscribe('task:a');
  await first.ready;
  const second = c.subscribe('task:b');
  const refused = await second.ready.catch((e: unknown) => e);
  assert.ok(refused instanceof AgentwireError);
  assert.equal(refused.code, 'too_many_subscriptions');
  assert.equal(second.closed, true);
  // Nobody produces task:a, so the gateway refuses the command (no_producer / not_found).
  await assert.rejects(
    c.command({ type: 'cancel', stream: 'task:a' }),
    (e: unknown) => e instanceof AgentwireError && isErrorCode(e.code) && e.code !== 'internal',
  );
  assert.equal(c.status, 'websocket');
});

test('heartbeat against the gateway: pongs keep a quiet connection alive', async () => {
  const gw = await gateway();
  const c = client(gw.url, 20);
  const statuses: string[] = [];
  c.on('status', (s) => statuses.push(s));
  await until(() => c.status === 'websocket', 'open');
  await letTimePass(150);
  assert.deepEqual(statuses, ['websocket']);
});
