import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WebSocket } from 'ws';
import type { Gateway } from '../gateway.js';
import { PRODUCER_KEY, cast, getJson, log, secureGateway } from '../testing/auth-kit.js';

const gateways: Gateway[] = [];
after(() => Promise.all(gateways.map((g) => g.close())));

async function gateway(extra: Parameters<typeof secureGateway>[0] = {}): Promise<Gateway> {
  const gw = await secureGateway(extra);
  gateways.push(gw);
  return gw;
}

/** The value of one sample in Prometheus text: `name{labels} value`, labels in any order. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(url: string, credential?: string): Promise<string> {
  const res = await getJson(url, credential);
  assert.equal(res.status, 200);
  return res.body as string;
}

test('/metrics needs an admin credential on the gateway port', async () => {
  const gw = await gateway();
  const { viewerA, admin } = await cast();
  assert.equal((await getJson(`${gw.url}/metrics`)).status, 401);
  const refused = await getJson(`${gw.url}/metrics`, viewerA);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'forbidden');
  const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${admin}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /# TYPE agentwire_events_ingested_total counter/);
  assert.match(text, /# TYPE agentwire_nodejs_eventloop_lag_seconds gauge/, 'process and event-loop metrics');
});

test('ingest, deduplication, connections, commands and refusals are counted with bounded labels', async () => {
  const gw = await gateway({ limits: { maxIngestEventsPerSecond: 5, ingestBurst: 5 } });
  const { admin, operatorA } = await cast();
  const before = await scrape(`${gw.url}/metrics`, admin);
  const inProcess = sample(before, 'agentwire_events_ingested_total', { path: 'in_process' }) ?? 0;
  assert.ok(inProcess >= 6, 'the set-up published in-process');

  const post = (events: unknown[]) =>
    getJson(`${gw.url}/v1/streams/task%3Aa1/events`, PRODUCER_KEY, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
  assert.equal(
    (
      await post([
        { id: 'once-1', ...log('one') },
        { id: 'once-2', ...log('two') },
      ])
    ).status,
    200,
  );
  assert.equal((await post([{ id: 'once-1', ...log('one') }])).status, 200, 'a retry is a duplicate');
  const limited = await post([log('3'), log('4'), log('5')]);
  assert.equal(limited.status, 429);

  const socket = new WebSocket(gw.wsUrl, { headers: { authorization: `Bearer ${operatorA}` } });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const cancel = await getJson(`${gw.url}/v1/commands`, operatorA, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'cancel', stream: 'task:a1' }),
  });
  assert.equal(cancel.body.error?.code, 'no_producer');

  const text = await scrape(`${gw.url}/metrics`, admin);
  assert.equal(sample(text, 'agentwire_events_ingested_total', { path: 'http' }), 2);
  assert.equal(sample(text, 'agentwire_events_deduplicated_total', { path: 'http' }), 1);
  assert.equal(sample(text, 'agentwire_ingest_duration_seconds_count', { path: 'http' }), 2);
  assert.equal(sample(text, 'agentwire_limit_refusals_total', { code: 'rate_limited' }), 1);
  assert.equal(sample(text, 'agentwire_connections', { transport: 'websocket' }), 1);
  assert.equal(sample(text, 'agentwire_commands_total', { type: 'cancel', outcome: 'no_producer' }), 1);
  assert.ok((sample(text, 'agentwire_publish_to_deliver_seconds_count') ?? 0) >= inProcess + 2);
  for (const line of text.split('\n')) {
    assert.doesNotMatch(line, /task:a1|a1"|operator-a/, `no task, stream or user in a label: ${line}`);
  }
  socket.close();
});

test('a metrics port of its own serves Prometheus without a credential, and only /metrics', async () => {
  const gw = await gateway({ metrics: { port: 0 } });
  assert.ok(gw.metricsUrl);
  const text = await scrape(gw.metricsUrl);
  assert.ok((sample(text, 'agentwire_events_ingested_total', { path: 'in_process' }) ?? 0) >= 6);
  const other = await getJson(gw.metricsUrl.replace('/metrics', '/v1/tasks'));
  assert.equal(other.status, 404);
});

test('open questions follow the log: asked opens, answered or the task ending closes', async () => {
  const gw = await gateway({ metrics: { port: 0 } });
  const ask = (questionId: string) => ({ type: 'question:asked', data: { questionId, prompt: 'ok?' } });
  await gw.publish('task:a1', [ask('q1'), ask('q2')]);
  await gw.publish('task:b1', [ask('q3')]);
  assert.equal(sample(await scrape(gw.metricsUrl!), 'agentwire_questions_open'), 3);
  await gw.publish('task:a1', [{ type: 'question:answered', data: { questionId: 'q1', answer: 'yes' } }]);
  await gw.publish('task:b1', [{ type: 'task:cancelled', data: {} }]);
  assert.equal(sample(await scrape(gw.metricsUrl!), 'agentwire_questions_open'), 1);
});
