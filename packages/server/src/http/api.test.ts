import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCodes } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';

describe('HTTP API', () => {
  let gw: Gateway;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const events = (stream: string) => `/v1/streams/${encodeURIComponent(stream)}/events`;

  before(async () => {
    gw = await createGateway({
      port: 0,
      logLevel: 'silent',
      limits: { maxBodyBytes: 20_000, maxEventsPerBatch: 10 },
    });
  });
  after(() => gw.close());

  it('ingests a batch and returns the assigned seqs', async () => {
    const res = await post(events('task:h1'), {
      events: [
        { id: 'e1', type: 'task:start', data: { taskId: 'h1', title: 'HTTP task' } },
        { id: 'e2', type: 'log:entry', data: { level: 'info', message: 'hi' } },
      ],
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      epoch: string;
      results: { id: string; seq: number; duplicate: boolean }[];
    };
    assert.deepEqual(body.results, [
      { id: 'e1', seq: 1, duplicate: false },
      { id: 'e2', seq: 2, duplicate: false },
    ]);
    assert.ok(body.epoch);
  });

  it('is idempotent by event id', async () => {
    const batch = { events: [{ id: 'dup-1', type: 'log:entry', data: { level: 'warn', message: 'once' } }] };
    const first = (await (await post(events('task:h2'), batch)).json()) as { results: { seq: number }[] };
    const second = (await (await post(events('task:h2'), batch)).json()) as {
      results: { seq: number; duplicate: boolean }[];
    };
    assert.equal(second.results[0]!.seq, first.results[0]!.seq);
    assert.equal(second.results[0]!.duplicate, true);
    const history = (await (await fetch(`${gw.url}${events('task:h2')}`)).json()) as {
      events: unknown[];
      head: number;
    };
    assert.equal(history.events.length, 1);
    assert.equal(history.head, 1);
  });

  it('reads history after a seq with a limit', async () => {
    await post(events('task:h3'), {
      events: Array.from({ length: 8 }, (_, i) => ({
        type: 'log:entry',
        data: { level: 'info', message: `m${i}` },
      })),
    });
    const res = await fetch(`${gw.url}${events('task:h3')}?after=3&limit=2`);
    const body = (await res.json()) as { events: { seq: number }[]; head: number; first: number };
    assert.deepEqual(
      body.events.map((e) => e.seq),
      [4, 5],
    );
    assert.equal(body.head, 8);
    assert.equal(body.first, 1);
  });

  it('creates, lists and snapshots tasks', async () => {
    const res = await post('/v1/tasks', { title: 'Made over HTTP', taskId: 'made', projectId: 'p1' });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { taskId: 'made', stream: 'task:made', seq: 1 });
    const list = (await (await fetch(`${gw.url}/v1/tasks?project=p1`)).json()) as {
      tasks: { taskId: string; status: string }[];
    };
    assert.deepEqual(
      list.tasks.map((t) => [t.taskId, t.status]),
      [['made', 'running']],
    );
    const snap = (await (await fetch(`${gw.url}/v1/tasks/made`)).json()) as {
      seq: number;
      state: { title: string };
    };
    assert.equal(snap.seq, 1);
    assert.equal(snap.state.title, 'Made over HTTP');
  });

  it('refuses every kind of bad input with a registry code', async () => {
    const cases: [string, () => Promise<Response>, string][] = [
      ['malformed JSON', () => post(events('task:bad'), '{"events": ['), 'bad_json'],
      [
        'wrong content type',
        () => post(events('task:bad'), '{}', { 'content-type': 'text/plain' }),
        'unsupported_media_type',
      ],
      [
        'oversize body',
        () =>
          post(events('task:bad'), {
            events: [{ type: 'log:entry', data: { level: 'info', message: 'x'.repeat(30_000) } }],
          }),
        'payload_too_large',
      ],
      ['no events field', () => post(events('task:bad'), { nope: 1 }), 'invalid_message'],
      ['empty batch', () => post(events('task:bad'), { events: [] }), 'invalid_message'],
      [
        'batch too big',
        () =>
          post(events('task:bad'), {
            events: Array.from({ length: 11 }, () => ({
              type: 'log:entry',
              data: { level: 'info', message: '' },
            })),
          }),
        'too_many_events',
      ],
      [
        'unknown type',
        () => post(events('task:bad'), { events: [{ type: 'agent:exploded', data: {} }] }),
        'unknown_event_type',
      ],
      [
        'wrong payload',
        () => post(events('task:bad'), { events: [{ type: 'tool:executing', data: { callId: 1 } }] }),
        'invalid_payload',
      ],
      ['invalid stream', () => post('/v1/streams/no%20spaces/events', { events: [] }), 'invalid_stream'],
      ['bad percent-encoding', () => fetch(`${gw.url}/v1/streams/%E0%A4%A/events`), 'invalid_stream'],
      ['bad query', () => fetch(`${gw.url}${events('task:h1')}?after=-1`), 'invalid_since'],
      ['unknown task', () => fetch(`${gw.url}/v1/tasks/ghost`), 'not_found'],
      ['unknown route', () => fetch(`${gw.url}/v1/nothing`), 'not_found'],
      ['wrong method', () => fetch(`${gw.url}/v1/tasks/made`, { method: 'DELETE' }), 'method_not_allowed'],
      [
        'invalid UTF-8',
        () =>
          fetch(`${gw.url}${events('task:bad')}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: Buffer.from([0x7b, 0xff, 0x7d]),
          }),
        'bad_encoding',
      ],
    ];
    for (const [name, call, code] of cases) {
      const res = await call();
      const body = (await res.json()) as { error: { code: keyof typeof errorCodes; message: string } };
      assert.equal(body.error.code, code, name);
      assert.equal(res.status, errorCodes[body.error.code].status, name);
      assert.ok(body.error.message.length > 0, name);
    }
    const history = (await (await fetch(`${gw.url}${events('task:bad')}`)).json()) as { head: number };
    assert.equal(history.head, 0, 'nothing from a refused batch was stored');
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
  });
});
