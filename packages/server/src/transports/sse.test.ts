import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { AnyEnvelope, AnyEventInput } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';

const log = (i: number, pad = 0): AnyEventInput => ({
  type: 'log:entry',
  data: { level: 'info', message: `line ${i}${'.'.repeat(pad)}` },
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** Splits raw event-stream text into messages and comments (enough of the format for assertions). */
function parse(text: string): { messages: SseMessage[]; comments: string[]; retry?: number } {
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let retry: number | undefined;
  for (const block of text.split('\n\n').slice(0, -1)) {
    const message: SseMessage = { event: 'message', data: '' };
    let hasData = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('retry: ')) retry = Number(line.slice(7));
      else if (line.startsWith('id: ')) message.id = line.slice(4);
      else if (line.startsWith('event: ')) message.event = line.slice(7);
      else if (line.startsWith('data: ')) {
        message.data = line.slice(6);
        hasData = true;
      }
    }
    if (hasData) messages.push(message);
  }
  return { messages, comments, ...(retry !== undefined && { retry }) };
}

/** A raw SSE request that keeps everything it reads. */
class RawSse {
  text = '';
  ended = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.text += chunk;
      this.wake();
    });
    res.on('close', () => {
      this.ended = true;
      this.wake();
    });
    res.on('error', () => {});
  }

  static open(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawSse> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, agent: false }, (res) => resolve(new RawSse(res)));
      req.on('error', reject);
      req.end();
    });
  }

  get parsed() {
    return parse(this.text);
  }

  get events(): AnyEnvelope[] {
    return this.parsed.messages
      .filter((m) => m.event === 'event')
      .map((m) => JSON.parse(m.data) as AnyEnvelope);
  }

  until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out; read so far:\n${this.text.slice(-500)}`)),
        timeoutMs,
      );
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  close(): void {
    this.res.destroy();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

describe('SSE transport', () => {
  let gw: Gateway;
  const url = (stream: string, query = '') =>
    `${gw.url}/v1/streams/${encodeURIComponent(stream)}/sse${query}`;

  before(async () => {
    gw = await createGateway({
      port: 0,
      logLevel: 'silent',
      limits: { sseHeartbeatMs: 20, sseRetryMs: 1234 },
    });
  });
  after(() => gw.close());

  it('answers with event-stream headers, a retry hint, subscribed first, and heartbeat comments', async () => {
    const s = 'task:sse-headers';
    await gw.publish(s, [log(1)]);
    const sse = await RawSse.open(url(s));
    assert.equal(sse.res.statusCode, 200);
    assert.match(String(sse.res.headers['content-type']), /^text\/event-stream/);
    assert.match(String(sse.res.headers['cache-control']), /no-cache/);
    assert.equal(sse.res.headers['x-accel-buffering'], 'no');
    await sse.until(() => sse.parsed.comments.length > 0);
    const { messages, retry } = sse.parsed;
    assert.equal(retry, 1234);
    assert.equal(messages[0]?.event, 'subscribed');
    const subscribed = JSON.parse(messages[0]!.data) as {
      op: string;
      stream: string;
      seq: number;
      recovered: boolean;
    };
    assert.deepEqual(
      [subscribed.op, subscribed.stream, subscribed.seq, subscribed.recovered],
      ['subscribed', s, 1, true],
    );
    sse.close();
  });

  it('splits a batch into one message per event, each with its seq as id', async () => {
    const s = 'task:sse-batch';
    const sse = await RawSse.open(url(s));
    await sse.until(() => sse.parsed.messages.length > 0);
    await gw.publish(s, [log(1), log(2), log(3)]);
    await sse.until(() => sse.events.length === 3);
    const messages = sse.parsed.messages.filter((m) => m.event === 'event');
    assert.deepEqual(
      messages.map((m) => m.id),
      ['1', '2', '3'],
    );
    assert.deepEqual(
      sse.events.map((e) => e.seq),
      [1, 2, 3],
    );
    sse.close();
  });

  it('resumes from Last-Event-ID, which wins over the since query, as a browser EventSource reconnects', async () => {
    const s = 'task:sse-last-id';
    await gw.publish(
      s,
      range(1, 8).map((i) => log(i)),
    );
    const sse = await RawSse.open(url(s, '?since=2'), { 'last-event-id': '5' });
    await gw.publish(s, [log(9)]);
    await sse.until(() => sse.events.length === 4);
    assert.deepEqual(
      sse.events.map((e) => e.seq),
      [6, 7, 8, 9],
    );
    sse.close();
  });

  it('ids the subscribed message with its position, so a reconnect before any event misses nothing', async () => {
    const s = 'task:sse-position';
    await gw.publish(s, [log(1), log(2), log(3)]);
    const first = await RawSse.open(url(s));
    await first.until(() => first.parsed.messages.length > 0);
    const id = first.parsed.messages[0]!.id;
    assert.equal(id, '3');
    first.close();
    await gw.publish(s, [log(4), log(5)]); // committed while the client is away
    const second = await RawSse.open(url(s), { 'last-event-id': id! });
    await second.until(() => second.events.length === 2);
    assert.deepEqual(
      second.events.map((e) => e.seq),
      [4, 5],
    );
    second.close();
  });

  it('refuses bad input with the registry status and an error event, before streaming anything', async () => {
    const cases: [string, Record<string, string>, string, number, string][] = [
      [url('task:x'), { 'last-event-id': 'abc' }, 'GET', 400, 'invalid_since'],
      [url('task:x', '?since=-3'), {}, 'GET', 400, 'invalid_since'],
      [url('task:x', '?snapshot=maybe'), {}, 'GET', 400, 'invalid_message'],
      [`${gw.url}/v1/streams/%E0%A4%A/sse`, {}, 'GET', 400, 'invalid_stream'],
      [url('task:x'), {}, 'POST', 405, 'method_not_allowed'],
    ];
    for (const [target, headers, method, status, code] of cases) {
      const sse = await RawSse.open(target, headers, method);
      await sse.until(() => sse.ended);
      assert.equal(sse.res.statusCode, status, target);
      const [message] = sse.parsed.messages;
      assert.equal(message?.event, 'error');
      assert.equal((JSON.parse(message.data) as { code: string }).code, code, target);
    }
  });

  it('ends a slow consumer with slow_consumer; it resumes with Last-Event-ID and misses nothing', async () => {
    // Its own gateway, so the hub's subscription count is this consumer's alone.
    const slow = await createGateway({
      port: 0,
      logLevel: 'silent',
      limits: { maxBufferedBytes: 64 * 1024 },
    });
    const s = 'task:sse-slow';
    const url = (query = '') => `${slow.url}/v1/streams/${encodeURIComponent(s)}/sse${query}`;
    const sse = await RawSse.open(url());
    await sse.until(() => sse.parsed.messages.length > 0);
    sse.res.pause(); // stop reading: the kernel buffers fill, then the server's
    let published = 0;
    while (slow.hub.subscriptionCount === 1) {
      await slow.publish(s, [log(++published, 4000)]);
      if (published > 20_000) assert.fail('the slow consumer was never dropped');
    }
    await slow.publish(s, [log(++published)]);
    sse.res.resume();
    await sse.until(() => sse.ended);
    const { messages } = sse.parsed;
    const last = messages.at(-1)!;
    assert.equal(last.event, 'error');
    assert.equal((JSON.parse(last.data) as { code: string }).code, 'slow_consumer');
    const received = sse.events.map((e) => e.seq);
    assert.deepEqual(received, range(1, received.length), 'what arrived is a gapless prefix');
    const lastId = messages.filter((m) => m.id !== undefined).at(-1)!.id!;
    const again = await RawSse.open(url(), { 'last-event-id': lastId });
    await again.until(() => again.events.at(-1)?.seq === published);
    assert.deepEqual([...received, ...again.events.map((e) => e.seq)], range(1, published));
    again.close();
    await slow.close();
  });

  it('ends open streams with shutting_down when the gateway closes', async () => {
    const other = await createGateway({ port: 0, logLevel: 'silent' });
    const sse = await RawSse.open(`${other.url}/v1/streams/task%3Abye/sse`);
    await sse.until(() => sse.parsed.messages.length > 0);
    await other.close();
    await sse.until(() => sse.ended);
    const last = sse.parsed.messages.at(-1)!;
    assert.equal(last.event, 'error');
    assert.equal((JSON.parse(last.data) as { code: string }).code, 'shutting_down');
  });
});
