/**
 * One trace from an agent's tool call to a watcher's screen, over real sockets: the agent SDK
 * publishes over HTTP from inside `agent.tool()`, the gateway records its ingest, durable append and
 * fan-out, and the client SDK continues the trace in its delivery span. Everything runs in this
 * process, so one in-memory exporter sees every side's spans.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { connect } from '@agentwire/agent';
import type { AnyEnvelope } from '@agentwire/protocol';
import { createGateway } from '@agentwire/server';
import { contextOf, createClient, withDeliverySpan } from './index.js';
import { until } from './testing/scripted-server.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);
trace.setGlobalTracerProvider(provider);
const root = mkdtempSync(join(tmpdir(), 'agentwire-trace-e2e-'));
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await provider.shutdown();
  contextManager.disable();
  rmSync(root, { recursive: true, force: true });
});

async function setup() {
  const gateway = await createGateway({
    port: 0,
    logLevel: 'silent',
    engine: { kind: 'sqlite', path: join(mkdtempSync(join(root, 'gw-')), 'log.db') },
  });
  cleanups.push(() => gateway.close());
  const producer = connect({ url: gateway.url });
  cleanups.push(() => producer.close());
  const client = createClient({ url: gateway.url });
  cleanups.push(() => client.close());
  return { gateway, producer, client };
}

function named(spans: ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}

test("one trace from agent.tool() through ingest, append and fan-out to a subscriber's delivery span", async () => {
  exporter.reset();
  const { producer, client } = await setup();
  const task = await producer.startTask({ title: 'traced' });
  const agent = await task.spawnAgent({ name: 'researcher' });
  const sub = client.subscribe(task.stream);
  await sub.ready;
  const delivered: AnyEnvelope[] = [];
  // The watcher's side: each tool event is rendered inside the span that continues its trace.
  sub.on('event', (event) => {
    if (!event.type.startsWith('tool:')) return;
    withDeliverySpan(event, () => {
      trace.getTracer('watcher').startSpan('render').end();
      delivered.push(event);
    });
  });

  const hits = await agent.tool('search', { q: 'otel' }, () => 3);
  assert.equal(hits, 3);
  await until(() => delivered.length === 2, 'tool:executing and tool:complete delivered');

  const [tool] = named(exporter.getFinishedSpans(), 'execute_tool search');
  assert.ok(tool, 'the tool span');
  const traceId = tool.spanContext().traceId;
  const toolSpan = tool.spanContext().spanId;
  for (const event of delivered) assert.equal(event.trace?.traceparent, `00-${traceId}-${toolSpan}-01`);

  // The gateway's spans end as the producer is answered, the delivery spans as rendering ends.
  await until(
    () => named(exporter.getFinishedSpans(), 'agentwire.deliver').length === 2,
    'both delivery spans',
  );
  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const ingests = named(spans, 'agentwire.ingest');
  const appends = named(spans, 'agentwire.append');
  const fanouts = named(spans, 'agentwire.fanout');
  const deliveries = named(spans, 'agentwire.deliver');
  const renders = named(spans, 'render');
  // tool:executing and tool:complete may reach the gateway in one batch or two.
  assert.ok(ingests.length >= 1 && ingests.length <= 2, `ingests: ${ingests.length}`);
  assert.equal(appends.length, ingests.length);
  assert.equal(fanouts.length, ingests.length);
  assert.equal(deliveries.length, 2);
  assert.equal(renders.length, 2);
  for (const s of [...ingests, ...fanouts, ...deliveries]) {
    assert.equal(s.parentSpanContext?.spanId, toolSpan, `${s.name} is a child of the tool's span`);
  }
  const ingestIds = new Set(ingests.map((s) => s.spanContext().spanId));
  for (const s of appends) assert.ok(ingestIds.has(s.parentSpanContext?.spanId ?? ''), 'append in ingest');
  const deliveryIds = new Set(deliveries.map((s) => s.spanContext().spanId));
  for (const s of renders)
    assert.ok(deliveryIds.has(s.parentSpanContext?.spanId ?? ''), 'render in delivery');
  assert.deepEqual(
    deliveries.map((s) => [
      s.kind,
      s.attributes['messaging.destination.name'],
      s.attributes['agentwire.event.type'],
    ]),
    [
      [SpanKind.CONSUMER, task.stream, 'tool:executing'],
      [SpanKind.CONSUMER, task.stream, 'tool:complete'],
    ],
  );
  // An untraced event leaves the context as it is.
  assert.equal(contextOf({}), context.active());
});

test("a worker's task runs in an agentwire.task span that its events carry to the watcher", async () => {
  exporter.reset();
  const { producer, client } = await setup();
  let stream = '';
  producer.handle('research', async (task) => {
    stream = task.stream;
    const agent = await task.spawnAgent({ name: 'worker' });
    await agent.tool('fetch', {}, () => 'page');
    return 'done';
  });
  await until(() => producer.commandStatus === 'connected', 'command channel connected');
  await client.command({ type: 'start', kind: 'research', taskId: 'traced-start' });
  const sub = client.subscribe('task:traced-start', { since: { seq: 0 } });
  const events: AnyEnvelope[] = [];
  sub.on('event', (e) => events.push(e));
  await until(() => events.some((e) => e.type === 'task:complete'), 'the task completes');
  assert.equal(stream, 'task:traced-start');
  await until(() => named(exporter.getFinishedSpans(), 'agentwire.task research').length === 1, 'task span');

  const [taskSpan] = named(exporter.getFinishedSpans(), 'agentwire.task research');
  const [tool] = named(exporter.getFinishedSpans(), 'execute_tool fetch');
  assert.ok(taskSpan && tool);
  assert.equal(taskSpan.attributes['agentwire.task.id'], 'traced-start');
  assert.equal(tool.parentSpanContext?.spanId, taskSpan.spanContext().spanId);
  const { traceId, spanId } = taskSpan.spanContext();
  const byType = new Map<string, string | undefined>(events.map((e) => [e.type, e.trace?.traceparent]));
  // Published by the worker in the task's span: the start, the agent, the outcome.
  for (const type of ['task:start', 'agent:spawned', 'task:complete']) {
    assert.equal(byType.get(type), `00-${traceId}-${spanId}-01`, type);
  }
  assert.equal(byType.get('tool:complete'), `00-${traceId}-${tool.spanContext().spanId}-01`);
});
