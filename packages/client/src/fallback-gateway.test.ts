/**
 * Transport fallback against the real gateway, over real sockets. A TCP proxy in front of the
 * gateway can refuse (403) or drop WebSocket upgrades and SSE requests while passing everything
 * else, and can cut every connection through it; a producer publishes throughout, and every test
 * checks that the subscriber saw each event exactly once, in order, whatever the client switched.
 */
import assert from 'node:assert/strict';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { PRODUCER_PROTOCOL_VERSION, taskIdOf, type AnyEnvelope, type GatewayOp } from '@agentwire/protocol';
import { createGateway, type Gateway } from '@agentwire/server';
import {
  AgentwireError,
  createClient,
  type Client,
  type ClientOptions,
  type ClientStatus,
  type Subscription,
} from './index.js';
import { pace, until, letTimePass } from './testing/scripted-server.js';
import { SseTransport } from './sse-transport.js';
import { TransportClosedError } from './transport.js';
import { httpBaseUrl } from './url.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function gateway(port?: number): Promise<Gateway> {
  const gw = await createGateway({
    engine: { kind: 'memory' },
    port: port ?? 0,
    logLevel: 'silent',
  });
  cleanups.push(() => gw.close());
  return gw;
}

/** `hold` forwards the request but never the answer, like a proxy buffering a response that never ends. */
type Block = 'pass' | 'refuse' | 'drop' | 'hold';

/**
 * A TCP proxy that reads each request head and decides: WebSocket upgrades and SSE requests can be
 * refused with a plain 403 (as a corporate proxy would) or dropped; everything else passes. Plain
 * requests are forwarded with `Connection: close`, so every request opens its own connection and
 * meets the check (a reused keep-alive connection would slip past it).
 */
class Proxy {
  ws: Block = 'pass';
  sse: Block = 'pass';
  /** Requests that reached the gateway, and those stopped here, by kind. */
  readonly passed = { websocket: 0, sse: 0, poll: 0, other: 0 };
  readonly stopped = { websocket: 0, sse: 0 };
  readonly #sockets = new Set<Socket>();
  readonly #server = createServer((inbound) => this.#accept(inbound));
  readonly #target: () => number;

  private constructor(target: () => number) {
    this.#target = target;
  }

  static async start(target: () => number): Promise<Proxy> {
    const proxy = new Proxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => proxy.close());
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Destroys every connection through the proxy; returns how many there were. */
  cut(): number {
    const n = this.#sockets.size;
    for (const s of this.#sockets) s.destroy();
    return n;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  #accept(inbound: Socket): void {
    this.#track(inbound);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      inbound.off('data', onData);
      inbound.pause();
      this.#route(inbound, head.subarray(0, end).toString('latin1'), head.subarray(end + 4));
    };
    inbound.on('data', onData);
  }

  #route(inbound: Socket, head: string, rest: Buffer): void {
    const [requestLine = '', ...headers] = head.split('\r\n');
    const path = requestLine.split(' ')[1] ?? '';
    const upgrade = headers.some((h) => /^upgrade:\s*websocket/i.test(h));
    const kind = upgrade
      ? 'websocket'
      : /\/sse(\?|$)/.test(path)
        ? 'sse'
        : /\/poll(\?|$)/.test(path)
          ? 'poll'
          : 'other';
    const block = kind === 'websocket' ? this.ws : kind === 'sse' ? this.sse : 'pass';
    if ((block === 'refuse' || block === 'drop') && (kind === 'websocket' || kind === 'sse')) {
      this.stopped[kind]++;
      if (block === 'drop') inbound.destroy();
      else
        inbound.end(
          'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 9\r\nconnection: close\r\n\r\nForbidden',
        );
      return;
    }
    this.passed[kind]++;
    const forwarded = upgrade
      ? head
      : [requestLine, ...headers.filter((h) => !/^connection:/i.test(h)), 'connection: close'].join('\r\n');
    const outbound = createConnection({ host: '127.0.0.1', port: this.#target() });
    this.#track(outbound);
    outbound.write(`${forwarded}\r\n\r\n`);
    if (rest.length > 0) outbound.write(rest);
    inbound.pipe(outbound);
    if (block !== 'hold') outbound.pipe(inbound);
    else outbound.resume(); // read and discard
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
    inbound.resume();
  }
}

function client(url: string, options: Partial<ClientOptions> = {}): { c: Client; statuses: ClientStatus[] } {
  const c = createClient({
    url,
    reconnect: { minDelayMs: 5, maxDelayMs: 50 },
    probeIntervalMs: 100,
    ...options,
  });
  cleanups.push(() => c.close());
  const statuses: ClientStatus[] = [c.status];
  c.on('status', (s) => statuses.push(s));
  return { c, statuses };
}

/** Every event seen by a subscription that started from the beginning of the stream. */
function record(sub: Subscription): AnyEnvelope[] {
  const seen: AnyEnvelope[] = [];
  sub.onEvent((e) => seen.push(e));
  return seen;
}

/** Publishes `task:start` and then log entries up to `total`, in small batches, while `run()` resolves. */
function producer(gw: () => Gateway, stream: string, total: number, hold?: () => boolean) {
  let published = 0;
  const done = (async () => {
    await gw().publish(stream, [
      { type: 'task:start', data: { taskId: taskIdOf(stream)!, title: 'fallback' } },
    ]);
    published = 1;
    while (published < total) {
      // Lets a test keep the last events back until it has done what it came to do.
      if (hold && published >= total - 3)
        await until(() => !hold(), 'the test to release the last events', 10_000);
      const n = Math.min(3, total - published);
      const batch = Array.from({ length: n }, (_, k) => ({
        id: `${stream}-${published + k + 1}`,
        type: 'log:entry' as const,
        data: { level: 'info' as const, message: `n=${published + k + 1}` },
      }));
      await gw().publish(stream, batch);
      published += n;
      await pace(2);
    }
  })();
  return { done, published: () => published };
}

function assertExactlyOnce(seen: AnyEnvelope[], total: number): void {
  assert.deepEqual(
    seen.map((e) => e.seq),
    Array.from({ length: total }, (_, i) => i + 1),
  );
  assert.equal(new Set(seen.map((e) => e.epoch)).size, 1);
}

/** Counts consecutive distinct statuses, e.g. [connecting, offline, connecting, sse]. */
function transitions(statuses: ClientStatus[]): string {
  return statuses.filter((s, i) => s !== statuses[i - 1]).join(' → ');
}

for (const kind of ['websocket', 'sse', 'polling'] as const) {
  test(`${kind} alone: a stream exactly once, in order, while the connection is cut again and again`, async () => {
    const gw = await gateway();
    const proxy = await Proxy.start(() => gw.port);
    const { c, statuses } = client(proxy.url, { transports: [kind] });
    const stream = `task:cut-${kind}`;
    const sub = c.subscribe(stream, { since: { seq: 0 } });
    const seen = record(sub);
    await sub.ready;
    assert.equal(c.status, kind);

    const total = 240;
    // A cut only counts once the client noticed it: one that lands between two polls, or on a
    // response already read, takes nothing away.
    const drops = () => statuses.filter((s) => s === 'offline').length;
    const p = producer(
      () => gw,
      stream,
      total,
      () => drops() < 3,
    );
    let finished = false;
    void p.done.finally(() => (finished = true));
    while (!finished) {
      await pace(20);
      if (c.status === kind) proxy.cut();
    }
    await p.done;
    await until(() => sub.position?.seq === total, `seq ${total} over ${kind}`, 10_000);
    await until(() => c.status === kind, `back on ${kind}`);

    assert.ok(drops() >= 3, transitions(statuses));
    assertExactlyOnce(seen, total);
    assert.deepEqual(
      [...new Set(statuses)].sort(),
      ['connecting', kind, 'offline'].sort(),
      `only ${kind}: ${transitions(statuses)}`,
    );
    if (kind === 'sse') assert.equal(proxy.passed.poll + proxy.passed.websocket, 0);
    if (kind === 'polling') assert.equal(proxy.passed.sse + proxy.passed.websocket, 0);
    if (kind === 'websocket') assert.equal(proxy.passed.sse + proxy.passed.poll, 0);
  });
}

test('WebSocket upgrades dropped: three failed attempts, then SSE; SSE refused too: polling; unblocked: back to WebSocket', async () => {
  const gw = await gateway();
  const proxy = await Proxy.start(() => gw.port);
  proxy.ws = 'drop';
  const { c, statuses } = client(proxy.url);
  const stream = 'task:ladder';
  const sub = c.subscribe(stream, { since: { seq: 0 } });
  const seen = record(sub);

  const total = 300;
  let phase = 'sse';
  const p = producer(
    () => gw,
    stream,
    total,
    () => phase !== 'done',
  );

  await until(() => c.status === 'sse', 'on SSE', 10_000);
  assert.ok(proxy.stopped.websocket >= 3, `${proxy.stopped.websocket} WebSocket attempts before SSE`);
  assert.equal(proxy.passed.websocket, 0);
  await until(() => (sub.position?.seq ?? 0) >= 60, 'events over SSE', 10_000);

  // Now SSE is refused as well; cutting the live streams makes the client find out.
  phase = 'polling';
  proxy.sse = 'refuse';
  proxy.cut();
  await until(() => c.status === 'polling', 'on polling', 10_000);
  const sseStopped = proxy.stopped.sse;
  assert.ok(sseStopped >= 1);
  const at = sub.position?.seq ?? 0;
  await until(() => (sub.position?.seq ?? 0) >= Math.min(at + 60, total - 3), 'events over polling', 10_000);
  assert.equal(c.status, 'polling');

  // Probes keep trying the better transports; once they get through, the client moves up.
  phase = 'websocket';
  proxy.ws = 'pass';
  proxy.sse = 'pass';
  await until(() => c.status === 'websocket', 'back on WebSocket', 10_000);
  phase = 'done';
  await p.done;
  await until(() => sub.position?.seq === total, `seq ${total}`, 10_000);

  assertExactlyOnce(seen, total);
  assert.ok(proxy.passed.poll > 0 && proxy.passed.sse > 0 && proxy.passed.websocket > 0);
  const path = transitions(statuses);
  assert.match(path, /^connecting → (offline → connecting → )+sse → .*polling → .*websocket$/, path);
  assert.deepEqual(JSON.parse(JSON.stringify(sub.state)), await snapshot(gw, 'ladder'));
});

test('an upgrade refused with 403: SSE at once; the probe upgrades back when WebSockets get through', async () => {
  const gw = await gateway();
  const proxy = await Proxy.start(() => gw.port);
  proxy.ws = 'refuse';
  const { c, statuses } = client(proxy.url);
  const stream = 'task:upgrade';
  const sub = c.subscribe(stream, { since: { seq: 0 } });
  const seen = record(sub);
  let upgraded = false;
  const total = 240;
  const p = producer(
    () => gw,
    stream,
    total,
    () => !upgraded,
  );

  await until(() => c.status === 'sse', 'on SSE');
  assert.equal(proxy.stopped.websocket, 1, 'an HTTP refusal needs no second attempt');
  assert.deepEqual(statuses.slice(0, 4), ['connecting', 'offline', 'connecting', 'sse']);
  await until(() => (sub.position?.seq ?? 0) >= 30, 'events over SSE', 10_000);
  // Probes are refused too and change nothing.
  await until(() => proxy.stopped.websocket >= 3, 'probes');
  assert.equal(c.status, 'sse');

  proxy.ws = 'pass';
  await until(() => c.status === 'websocket', 'upgraded', 10_000);
  upgraded = true;
  await p.done;
  await until(() => sub.position?.seq === total, `seq ${total}`, 10_000);
  assertExactlyOnce(seen, total);
  // Straight from SSE to WebSocket: the switch is never offline.
  assert.equal(transitions(statuses), 'connecting → offline → connecting → sse → websocket');
});

test('commands over each transport: acked with the result, refusals typed', async () => {
  const gw = await gateway();
  const stream = 'task:cmd';
  await gw.publish(stream, [{ type: 'task:start', data: { taskId: 'cmd', title: 'commands' } }]);
  const texts: string[] = [];
  let welcomed = false;
  const conn = gw.connectProducer((op: GatewayOp) => {
    if (op.op === 'welcome') welcomed = true;
    if (op.op !== 'command') return;
    const text = op.command.type === 'message' ? op.command.text : '';
    texts.push(text);
    if (text.startsWith('no')) conn.send({ op: 'reject', id: op.id, code: 'forbidden', message: 'not you' });
    else conn.send({ op: 'ack', id: op.id });
  });
  conn.send({
    op: 'hello',
    version: PRODUCER_PROTOCOL_VERSION,
    producerId: 'cmd-producer',
    streams: [stream],
  });
  cleanups.push(async () => conn.close());
  await until(() => welcomed, 'welcome');

  for (const kind of ['websocket', 'sse', 'polling'] as const) {
    const { c } = client(gw.url, { transports: [kind] });
    const sub = c.subscribe(stream);
    const seen = record(sub);
    await sub.ready;
    assert.equal(c.status, kind);
    const result = (await c.command({ type: 'message', stream, text: `hi over ${kind}` })) as { seq: number };
    assert.equal(typeof result.seq, 'number');
    // The command's own event reaches the subscriber once, at the seq the ack named.
    await until(() => seen.some((e) => e.seq === result.seq), `chat:message over ${kind}`);
    const message = seen.find((e) => e.seq === result.seq)!;
    assert.equal(message.type, 'chat:message');
    assert.equal((message.data as { text: string }).text, `hi over ${kind}`);
    assert.equal(seen.filter((e) => e.seq === result.seq).length, 1);

    const refused = await c
      .command({ type: 'message', stream, text: `no over ${kind}` })
      .catch((e: unknown) => e);
    assert.ok(refused instanceof AgentwireError, String(refused));
    assert.equal(refused.code, 'forbidden');
    assert.equal(refused.message, 'not you');
    // A command the gateway itself refuses (nobody owns the stream) is typed as well.
    await assert.rejects(
      c.command({ type: 'cancel', stream: 'task:nobody' }),
      (e: unknown) => e instanceof AgentwireError && e.code !== 'internal' && e.code !== 'unavailable',
    );
    await c.close();
  }
  assert.deepEqual(texts, [
    'hi over websocket',
    'no over websocket',
    'hi over sse',
    'no over sse',
    'hi over polling',
    'no over polling',
  ]);
});

test('an upgrade waits while a command awaits its ack, so the switch never fails a command', async () => {
  const gw = await gateway();
  const stream = 'task:busy';
  await gw.publish(stream, [{ type: 'task:start', data: { taskId: 'busy', title: 'busy' } }]);
  const held: string[] = [];
  let welcomed = false;
  const conn = gw.connectProducer((op: GatewayOp) => {
    if (op.op === 'welcome') welcomed = true;
    if (op.op === 'command') held.push(op.id); // acked only when the test says so
  });
  conn.send({
    op: 'hello',
    version: PRODUCER_PROTOCOL_VERSION,
    producerId: 'busy-producer',
    streams: [stream],
  });
  cleanups.push(async () => conn.close());
  await until(() => welcomed, 'welcome');

  const proxy = await Proxy.start(() => gw.port);
  proxy.ws = 'refuse';
  const { c, statuses } = client(proxy.url);
  await until(() => c.status === 'sse', 'on SSE');
  let settled = false;
  const reply = c.command({ type: 'message', stream, text: 'slow' });
  void reply.finally(() => (settled = true));
  await until(() => held.length === 1, 'the command reached the producer');

  proxy.ws = 'pass';
  // Two probes got through: the first was declined while the command was out.
  await until(() => proxy.passed.websocket >= 2, 'probes');
  assert.equal(c.status, 'sse');
  assert.equal(settled, false);
  conn.send({ op: 'ack', id: held[0]! });
  const result = (await reply) as { seq: number };
  assert.equal(typeof result.seq, 'number');
  await until(() => c.status === 'websocket', 'upgraded after the ack', 10_000);
  assert.equal(transitions(statuses), 'connecting → offline → connecting → sse → websocket');
});

for (const kind of ['websocket', 'sse', 'polling'] as const) {
  test(`status over ${kind}: connecting → ${kind}; offline while the gateway is down; ${kind} again, nothing lost`, async () => {
    let gw = await gateway();
    const port = gw.port;
    const { c, statuses } = client(gw.url, { transports: [kind] });
    const sub = c.subscribe('task:down', { since: { seq: 0 } });
    const seen = record(sub);
    await gw.publish('task:down', [{ type: 'task:start', data: { taskId: 'down', title: 'down' } }]);
    await until(() => sub.position?.seq === 1, 'first event');
    assert.deepEqual(statuses, ['connecting', kind]);
    const epoch = sub.position!.epoch;

    await gw.close();
    await until(() => c.status === 'offline', 'offline');
    await letTimePass(100); // several failed attempts while nothing listens
    assert.equal(c.status === 'offline' || c.status === 'connecting', true, c.status);
    // A memory gateway restarts with a new history: the subscription is told and follows it.
    gw = await gateway(port);
    await gw.publish('task:down', [{ type: 'task:start', data: { taskId: 'down', title: 'second life' } }]);
    await until(() => c.status === kind, `${kind} again`, 10_000);
    await until(() => sub.state?.title === 'second life', 'new history');
    assert.deepEqual(
      seen.filter((e) => e.epoch === epoch).map((e) => e.seq),
      [1],
      'nothing of the old history twice',
    );
    const path = transitions(statuses);
    assert.match(
      path,
      new RegExp(`^connecting → ${kind} → offline → (connecting → offline → )*connecting → ${kind}$`),
      path,
    );
  });
}

test('the gateway down is not a reason to fall back: all transports allowed, it comes back on WebSocket', async () => {
  let gw = await gateway();
  const port = gw.port;
  const { c, statuses } = client(gw.url);
  const sub = c.subscribe('task:outage', { since: { seq: 0 } });
  await sub.ready;
  assert.equal(c.status, 'websocket');
  await gw.close();
  // Far more failed attempts than fallbackAfter while nothing answers, not even /readyz.
  await until(() => statuses.filter((s) => s === 'offline').length >= 6, 'many failed attempts');
  gw = await gateway(port);
  await until(() => c.status === 'websocket', 'back', 10_000);
  assert.ok(!statuses.includes('sse') && !statuses.includes('polling'), transitions(statuses));
});

test('SSE requests dropped: three failed attempts (the gateway answering /readyz all along), then polling', async () => {
  const gw = await gateway();
  const proxy = await Proxy.start(() => gw.port);
  proxy.sse = 'drop';
  const { c, statuses } = client(proxy.url, { transports: ['sse', 'polling'] });
  const sub = c.subscribe('task:nosse', { since: { seq: 0 } });
  const seen = record(sub);
  await gw.publish('task:nosse', [{ type: 'task:start', data: { taskId: 'nosse', title: 'no SSE here' } }]);
  await until(() => c.status === 'polling', 'on polling', 10_000);
  assert.ok(proxy.stopped.sse >= 3, `${proxy.stopped.sse} SSE attempts`);
  await until(() => seen.length === 1, 'the event over polling');
  assert.match(transitions(statuses), /^connecting → (offline → connecting → ){3,}polling$/);
});

test('an event stream held back by something in between is unavailable, not merely slow', async () => {
  const gw = await gateway();
  const proxy = await Proxy.start(() => gw.port);
  proxy.sse = 'hold';
  const sse = new SseTransport(httpBaseUrl(proxy.url), { streams: () => ['task:held'], openTimeoutMs: 200 });
  const failed = await sse.connect().catch((e: unknown) => e);
  assert.ok(failed instanceof TransportClosedError, String(failed));
  assert.equal(failed.info.unavailable, true);
  assert.match(failed.info.reason, /buffering/);
  assert.equal(proxy.passed.sse, 1, 'the request itself went through');
});

test('options: transports are validated; a forbidden WebSocket is never tried', async () => {
  assert.throws(() => createClient({ url: 'http://x', transports: [] }), TypeError);
  assert.throws(() => createClient({ url: 'http://x', transports: ['carrier-pigeon' as never] }), TypeError);
  assert.throws(() => createClient({ url: 'http://x', transports: ['sse', 'sse'] }), TypeError);
  assert.throws(() => createClient({ url: 'http://x', fallbackAfter: 0 }), RangeError);
  assert.throws(() => createClient({ url: 'http://x', probeIntervalMs: 0 }), RangeError);

  const gw = await gateway();
  const proxy = await Proxy.start(() => gw.port);
  const { c, statuses } = client(proxy.url, { transports: ['sse', 'polling'] });
  await until(() => c.status === 'sse', 'sse');
  await letTimePass(300); // several probe intervals: there is nothing better to probe
  assert.equal(proxy.passed.websocket + proxy.stopped.websocket, 0);
  assert.deepEqual(statuses, ['connecting', 'sse']);
});

async function snapshot(gw: Gateway, taskId: string): Promise<unknown> {
  const res = await fetch(`${gw.url}/v1/tasks/${taskId}`);
  return ((await res.json()) as { state: unknown }).state;
}
