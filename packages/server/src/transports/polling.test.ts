import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AgentwireError,
  errorCodes,
  isErrorCode,
  reduceTaskEvents,
  type AnyEventInput,
  type ErrorBody,
  type PollAnswer,
} from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';
import { MemoryEngine } from '../log/memory.js';
import { waitUntil } from '../testing/wait.js';

const log = (i: number): AnyEventInput => ({
  type: 'log:entry',
  data: { level: 'info', message: `line ${i}` },
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('long-polling transport', () => {
  let gw: Gateway;
  const pollUrl = (base: string, stream: string, query: string) =>
    `${base}/v1/streams/${encodeURIComponent(stream)}/poll${query}`;
  const poll = async (stream: string, query: string, base = gw.url) => {
    const res = await fetch(pollUrl(base, stream, query));
    return { status: res.status, body: (await res.json()) as PollAnswer & { error?: ErrorBody } };
  };

  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent', limits: { maxReadLimit: 50 } });
  });
  after(() => gw.close());

  it('without after, answers at once with the current position; with snapshot=1, the snapshot', async () => {
    const s = 'task:poll-handshake';
    await gw.publish(s, [{ type: 'task:start', data: { taskId: 'poll-handshake', title: 'Hi' } }, log(1)]);
    const plain = await poll(s, '?wait=20');
    assert.equal(plain.status, 200);
    assert.deepEqual(
      { ...plain.body, epoch: '' },
      { stream: s, epoch: '', head: 2, recovered: true, events: [] },
    );
    const withSnapshot = await poll(s, '?snapshot=1&wait=20');
    assert.equal(withSnapshot.body.snapshot?.seq, 2);
    assert.equal((withSnapshot.body.snapshot?.state as { title: string }).title, 'Hi');
  });

  it('answers a waiting poll as soon as a commit lands, and at timeout with nothing and head = after', async () => {
    const s = 'task:poll-wait';
    await gw.publish(s, [log(1)]);
    const { epoch } = await gw.engine.head(s);
    const empty = await poll(s, `?after=1&epoch=${epoch}&wait=0.05`);
    assert.deepEqual(empty.body.events, []);
    assert.equal(empty.body.head, 1);
    const waiting = poll(s, `?after=1&epoch=${epoch}&wait=25`);
    await waitUntil(() => gw.stats().pendingPolls === 1, 'a poll to wait');
    await gw.publish(s, [log(2), log(3)]);
    const answered = await waiting;
    assert.deepEqual(
      answered.body.events.map((e) => e.seq),
      [2, 3],
    );
    assert.equal(answered.body.recovered, true);
  });

  it('pages with limit (clamped to maxReadLimit): head tells how far the stream goes', async () => {
    const s = 'task:poll-limit';
    await gw.publish(s, range(1, 80).map(log));
    const first = await poll(s, '?after=0&limit=3');
    assert.deepEqual(
      first.body.events.map((e) => e.seq),
      [1, 2, 3],
    );
    assert.equal(first.body.head, 80);
    const clamped = await poll(s, '?after=3&limit=1000');
    assert.deepEqual(
      clamped.body.events.map((e) => e.seq),
      range(4, 53),
    );
    assert.equal(gw.hub.subscriptionCount, 0, 'a full answer leaves no subscription behind');
  });

  it('answers after trimmed history with recovered:false and a snapshot, like the WebSocket', async () => {
    const s = 'task:poll-trimmed';
    await gw.publish(s, [
      { type: 'task:start', data: { taskId: 'poll-trimmed', title: 'T' } },
      ...range(1, 9).map(log),
    ]);
    // What retention does: checkpoint the state through the cut, then drop the prefix.
    const all = (await gw.engine.read(s, 0, 100)).events;
    await gw.engine.putCheckpoint(s, { seq: 5, state: reduceTaskEvents(all.slice(0, 5)) });
    await gw.engine.trim(s, 5);
    const { body } = await poll(s, '?after=2');
    assert.equal(body.recovered, false);
    assert.equal(body.snapshot?.seq, 10);
    assert.deepEqual(body.snapshot?.state, JSON.parse(JSON.stringify(reduceTaskEvents(all))));
    assert.deepEqual(body.events, []);
    assert.equal(body.head, 10);
  });

  it('forgets a poll whose client went away', async () => {
    const s = 'task:poll-abort';
    const controller = new AbortController();
    const pending = fetch(pollUrl(gw.url, s, '?after=0&wait=25'), { signal: controller.signal }).catch(
      () => 'aborted',
    );
    await waitUntil(() => gw.stats().pendingPolls === 1, 'a poll to wait');
    controller.abort();
    assert.equal(await pending, 'aborted');
    await waitUntil(
      () => gw.stats().pendingPolls === 0 && gw.hub.subscriptionCount === 0,
      'the poll and its subscription to end',
    );
  });

  it('refuses bad input with typed errors', async () => {
    const cases: [string, string, number, string][] = [
      ['task:x', '?after=abc', 400, 'invalid_since'],
      ['task:x', '?after=-1', 400, 'invalid_since'],
      ['task:x', `?after=1&epoch=${'e'.repeat(65)}`, 400, 'invalid_since'],
      ['task:x', '?wait=soon', 400, 'invalid_message'],
      ['task:x', '?limit=0', 400, 'invalid_message'],
      ['task:x', '?snapshot=yes', 400, 'invalid_message'],
      ['not a stream', '', 400, 'invalid_stream'],
    ];
    for (const [stream, query, status, code] of cases) {
      const res = await poll(stream, query);
      assert.equal(res.status, status, query);
      assert.equal(res.body.error?.code, code, query);
    }
    const post = await fetch(pollUrl(gw.url, 'task:x', ''), { method: 'POST' });
    assert.equal(post.status, 405);
  });

  it('is stateless: polls alternating between two gateways on one log get every event exactly once', async () => {
    // Two gateways sharing an engine stand in for two nodes sharing a clustered log.
    const engine = new MemoryEngine();
    const a = await createGateway({ port: 0, logLevel: 'silent', engine: { kind: 'custom', engine } });
    const b = await createGateway({ port: 0, logLevel: 'silent', engine: { kind: 'custom', engine } });
    try {
      const s = 'task:poll-nodes';
      let after = (await poll(s, '', a.url)).body.head;
      const producer = (async () => {
        for (let i = 1; i <= 60; i++) await a.publish(s, [log(i)]);
      })();
      const received: number[] = [];
      for (let n = 0; received.length < 60 || n === 0; n++) {
        const { body } = await poll(s, `?after=${after}&wait=5`, n % 2 === 0 ? b.url : a.url);
        received.push(...body.events.map((e) => e.seq));
        after = body.events.at(-1)?.seq ?? body.head;
      }
      await producer;
      assert.deepEqual(received, range(1, 60));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('answers waiting polls when the gateway shuts down', async () => {
    const other = await createGateway({ port: 0, logLevel: 'silent' });
    const waiting = poll('task:poll-bye', '?after=0&wait=25', other.url);
    await waitUntil(() => other.stats().pendingPolls === 1, 'a poll to wait');
    await other.close();
    const { status, body } = await waiting;
    assert.equal(status, 200);
    assert.deepEqual(body.events, []);
  });
});

describe('POST /v1/commands', () => {
  let gw: Gateway;
  const send = async (body: unknown, init: RequestInit = {}) => {
    const res = await fetch(`${gw.url}/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...init,
    });
    return {
      status: res.status,
      body: (await res.json()) as { ref?: string; result?: unknown; error?: ErrorBody },
    };
  };

  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent' });
  });
  after(() => gw.close());

  it("passes the router's typed refusal through with the registry's status", async () => {
    const res = await send({ type: 'cancel', stream: 'task:nobody-owns-this', ref: 'r1' });
    const code = res.body.error?.code;
    assert.ok(isErrorCode(code), JSON.stringify(res.body));
    assert.equal(res.status, errorCodes[code].status);
  });

  it("dispatches through the gateway's router and answers {ref, result}", async () => {
    const seen: unknown[] = [];
    gw.commands = {
      async dispatch(command) {
        seen.push(command);
        if (command.type === 'answer') throw new AgentwireError('question_closed');
        return { accepted: command.type };
      },
    };
    const ok = await send({ type: 'message', stream: 'task:c1', text: 'hello', ref: 'r2' });
    assert.deepEqual(ok, { status: 200, body: { ref: 'r2', result: { accepted: 'message' } } });
    assert.deepEqual(
      seen,
      [{ type: 'message', stream: 'task:c1', text: 'hello' }],
      'ref is not part of the command',
    );
    const noRef = await send({ type: 'cancel', stream: 'task:c1' });
    assert.deepEqual(noRef.body, { result: { accepted: 'cancel' } });
    const refused = await send({ type: 'answer', stream: 'task:c1', questionId: 'q1', answer: 'yes' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error?.code, 'question_closed');
  });

  it('refuses bad input with typed errors', async () => {
    const cases: [unknown, number, string, RequestInit?][] = [
      ['{nope', 400, 'bad_json'],
      [[1, 2], 400, 'invalid_message'],
      [{ type: 'explode', stream: 'task:c1' }, 400, 'invalid_message'],
      [{ type: 'cancel', stream: 'bad name' }, 400, 'invalid_message'],
      [{ type: 'cancel', stream: 'task:c1', ref: 7 }, 400, 'invalid_message'],
      [
        { type: 'cancel', stream: 'task:c1' },
        415,
        'unsupported_media_type',
        { headers: { 'content-type': 'text/plain' } },
      ],
    ];
    for (const [body, status, code, init] of cases) {
      const res = await send(body, init);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(res.body.error?.code, code, JSON.stringify(body));
    }
    const get = await fetch(`${gw.url}/v1/commands`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });
});
