import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGateway, type Gateway } from '../gateway.js';

/**
 * Every route that takes a position (`after`, `since`) or a count (`limit`) reads it the same way:
 * a position beyond 2^53 - 1 is refused as `invalid_since` wherever it is given, and a count of 0
 * is refused as `invalid_message` rather than quietly turned into 1.
 */
describe('query positions and counts, the same on every route', () => {
  let gw: Gateway;
  before(async () => {
    gw = await createGateway({ port: 0, logLevel: 'silent' });
    await gw.publish('task:q', [
      { type: 'task:start', data: { taskId: 'q', title: 'params' } },
      { type: 'log:entry', data: { level: 'info', message: 'two' } },
    ]);
  });
  after(() => gw.close());

  async function code(path: string): Promise<{ status: number; code: string | undefined }> {
    const res = await fetch(`${gw.url}${path}`);
    const text = await res.text();
    let body: { error?: { code?: string } } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // SSE answers its refusals as an `error` event.
      body = { error: JSON.parse(/^data: (.*)$/m.exec(text)?.[1] ?? '{}') as { code?: string } };
    }
    return { status: res.status, code: body?.error?.code };
  }

  const beyond = '9007199254740993'; // 2^53 + 1: no number can hold it
  const largest = String(Number.MAX_SAFE_INTEGER);
  const routes = {
    events: (q: string) => `/v1/streams/task%3Aq/events?${q}`,
    poll: (q: string) => `/v1/streams/task%3Aq/poll?wait=0&${q}`,
    swarm: (q: string) => `/v1/public/agent-swarms/q/messages?${q}`,
  };

  it('refuses a position beyond 2^53 - 1 with invalid_since on every route, and takes the largest one', async () => {
    for (const [name, route] of Object.entries(routes)) {
      assert.deepEqual(await code(route(`after=${beyond}`)), { status: 400, code: 'invalid_since' }, name);
      assert.equal((await code(route(`after=${largest}`))).status, 200, name);
    }
    assert.deepEqual(await code(`/v1/streams/task%3Aq/sse?since=${beyond}`), {
      status: 400,
      code: 'invalid_since',
    });
  });

  it('refuses limit=0 on every route instead of answering one item', async () => {
    for (const path of [
      routes.events('limit=0'),
      routes.poll('after=0&limit=0'),
      routes.swarm('after=0&limit=0'),
      '/v1/tasks?limit=0',
    ]) {
      assert.deepEqual(await code(path), { status: 400, code: 'invalid_message' }, path);
    }
    const one = await fetch(`${gw.url}${routes.events('limit=1')}`);
    assert.equal(((await one.json()) as { events: unknown[] }).events.length, 1);
  });
});
