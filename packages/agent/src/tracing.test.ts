import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { AnyEnvelope } from '@agentwire/protocol';
import { connect } from './connect.js';
import { MemoryPublisher } from './testing/memory-publisher.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);
trace.setGlobalTracerProvider(provider);
after(async () => {
  await provider.shutdown();
  contextManager.disable();
});
const tracer = trace.getTracer('test');

/** The trace id and parent span id a traceparent names. */
function parent(envelope: AnyEnvelope | undefined): { traceId: string; spanId: string } | undefined {
  const traceparent = envelope?.trace?.traceparent;
  if (traceparent === undefined) return undefined;
  const [, traceId = '', spanId = ''] = traceparent.split('-');
  return { traceId, spanId };
}

test('events published outside any span carry no trace', async () => {
  const store = new MemoryPublisher();
  const task = await connect({ publisher: store }).startTask({ title: 't' });
  await task.log('info', 'untraced');
  assert.deepEqual(
    store.stream(task.stream).map((e) => e.trace),
    [undefined, undefined],
  );
});

test("events carry the active span's traceparent, sampled flag and tracestate", async () => {
  const store = new MemoryPublisher();
  const aw = connect({ publisher: store });
  await tracer.startActiveSpan('outer', async (span) => {
    const task = await aw.startTask({ title: 't' });
    await task.log('info', 'traced');
    const [ack] = await aw.publish('project:acme', [
      { type: 'log:entry', data: { level: 'info', message: 'raw' } },
    ]);
    assert.ok(ack);
    span.end();
    const { traceId, spanId } = span.spanContext();
    for (const e of store.envelopes) {
      assert.equal(e.trace?.traceparent, `00-${traceId}-${spanId}-01`, e.type);
    }
    assert.equal(store.envelopes.length, 3);
  });
  // A trace context given with a raw event is the caller's, kept as given.
  const own = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', tracestate: 'k=v' };
  await tracer.startActiveSpan('other', async (span) => {
    await aw.publish('project:acme', [
      { type: 'log:entry', data: { level: 'info', message: 'own' }, trace: own },
    ]);
    span.end();
  });
  assert.deepEqual(store.stream('project:acme').at(-1)?.trace, own);
});

test('agent.tool() runs in an execute_tool span that its events carry, child of the caller', async () => {
  exporter.reset();
  const store = new MemoryPublisher();
  const task = await connect({ publisher: store }).startTask({ title: 't' });
  const agent = await task.spawnAgent({ name: 'researcher' });
  const outer = tracer.startSpan('request');
  const hits = await context.with(trace.setSpan(context.active(), outer), () =>
    agent.tool('search', { q: 'x' }, async () => {
      // Spans the tool opens (an HTTP call, an LLM request) are children of the tool's span.
      tracer.startSpan('inside').end();
      return 3;
    }),
  );
  outer.end();
  assert.equal(hits, 3);
  await assert.rejects(
    agent.tool('fetch', {}, () => {
      throw new Error('404');
    }),
    /404/,
  );

  const spans = exporter.getFinishedSpans();
  const search = spans.find((s) => s.name === 'execute_tool search');
  const fetch = spans.find((s) => s.name === 'execute_tool fetch');
  const inside = spans.find((s) => s.name === 'inside');
  assert.ok(search && fetch && inside, spans.map((s) => s.name).join());
  assert.equal(search.parentSpanContext?.spanId, outer.spanContext().spanId);
  assert.equal(search.spanContext().traceId, outer.spanContext().traceId);
  assert.equal(inside.parentSpanContext?.spanId, search.spanContext().spanId);
  assert.equal(search.attributes['gen_ai.tool.name'], 'search');
  assert.equal(search.attributes['agentwire.task.id'], task.id);
  assert.equal(search.attributes['agentwire.agent.id'], agent.id);
  assert.equal(search.status.code, SpanStatusCode.UNSET);
  assert.equal(fetch.status.code, SpanStatusCode.ERROR);
  assert.equal(fetch.events[0]?.name, 'exception');

  const events = store.stream(task.stream);
  const byType = (type: string) => events.filter((e) => e.type === type);
  const [executing, complete] = [byType('tool:executing'), byType('tool:complete')];
  assert.equal(search.attributes['gen_ai.tool.call.id'], (executing[0]?.data as { callId: string }).callId);
  for (const e of [executing[0], complete[0]]) {
    assert.deepEqual(parent(e), {
      traceId: search.spanContext().traceId,
      spanId: search.spanContext().spanId,
    });
  }
  assert.deepEqual(parent(byType('tool:failed')[0]), {
    traceId: fetch.spanContext().traceId,
    spanId: fetch.spanContext().spanId,
  });
  // Outside the tool, the agent's events carry no trace again.
  assert.equal(byType('agent:spawned')[0]?.trace, undefined);
});
