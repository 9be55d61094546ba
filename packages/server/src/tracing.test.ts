import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { createGateway, type Gateway } from './gateway.js';
import type { EngineConfig } from './log/index.js';
import { WsProbe } from './testing/ws-probe.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);
trace.setGlobalTracerProvider(provider);
const root = mkdtempSync(join(tmpdir(), 'agentwire-tracing-'));
after(async () => {
  await provider.shutdown();
  contextManager.disable();
  rmSync(root, { recursive: true, force: true });
});

// A producer's span, as an instrumented agent would have it.
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const producerSpan = '00f067aa0ba902b7';
const traceparent = `00-${traceId}-${producerSpan}-01`;

function post(gateway: Gateway, stream: string, events: unknown[], headers: Record<string, string> = {}) {
  return fetch(`${gateway.url}/v1/streams/${encodeURIComponent(stream)}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ events }),
  });
}

function spansOf(trace: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === trace);
}

function one(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one ${name} among ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

const engines: [string, () => EngineConfig][] = [
  ['memory', () => ({ kind: 'memory' })],
  ['sqlite', () => ({ kind: 'sqlite', path: join(mkdtempSync(join(root, 'db-')), 'log.db') })],
];

for (const [name, engine] of engines) {
  describe(`gateway tracing (${name})`, () => {
    it("records ingest, append and fan-out spans in the producer's trace, and delivers its traceparent", async () => {
      exporter.reset();
      const gateway = await createGateway({ port: 0, logLevel: 'silent', engine: engine() });
      const probe = await WsProbe.open(gateway.wsUrl);
      try {
        probe.send({ op: 'subscribe', stream: 'task:t1', ref: 's' });
        await probe.waitFor('subscribed');
        const log = { type: 'log:entry', data: { level: 'info', message: 'hi' } };
        const res = await post(gateway, 'task:t1', [
          { ...log, trace: { traceparent, tracestate: 'k=v' } },
          { ...log, trace: { traceparent, tracestate: 'k=v' } },
        ]);
        assert.equal(res.status, 200);
        await probe.until(() => probe.events.length === 2);
        assert.deepEqual(
          probe.events.map((e) => e.trace),
          [
            { traceparent, tracestate: 'k=v' },
            { traceparent, tracestate: 'k=v' },
          ],
        );
        // Stored: a reader of the history gets it too.
        const read = (await (await fetch(`${gateway.url}/v1/streams/task:t1/events`)).json()) as {
          events: { trace?: unknown }[];
        };
        assert.deepEqual(read.events[0]?.trace, { traceparent, tracestate: 'k=v' });

        const spans = spansOf(traceId);
        const ingest = one(spans, 'agentwire.ingest');
        const append = one(spans, 'agentwire.append');
        const fanout = one(spans, 'agentwire.fanout');
        assert.equal(ingest.parentSpanContext?.spanId, producerSpan);
        assert.equal(ingest.parentSpanContext?.traceState?.get('k'), 'v');
        assert.equal(ingest.kind, SpanKind.CONSUMER);
        assert.equal(ingest.attributes['messaging.destination.name'], 'task:t1');
        assert.equal(ingest.attributes['messaging.batch.message_count'], 2);
        assert.equal(append.parentSpanContext?.spanId, ingest.spanContext().spanId);
        assert.equal(append.attributes['agentwire.log.engine'], name);
        assert.equal(append.attributes['agentwire.events.appended'], 2);
        assert.equal(fanout.parentSpanContext?.spanId, producerSpan);
        assert.equal(fanout.kind, SpanKind.PRODUCER);
        assert.equal(fanout.attributes['agentwire.events.delivered'], 2);
        assert.equal(fanout.attributes['agentwire.seq.last'], 2);
      } finally {
        probe.ws.close();
        await gateway.close();
      }
    });
  });
}

describe('gateway tracing', () => {
  it('takes the traceparent header for events without a trace, and ignores a malformed header', async () => {
    exporter.reset();
    const gateway = await createGateway({ port: 0, logLevel: 'silent' });
    try {
      const log = { type: 'log:entry', data: { level: 'info', message: 'hi' } };
      const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      assert.equal(
        (await post(gateway, 'task:h', [log, { ...log, trace: { traceparent: own } }], { traceparent }))
          .status,
        200,
      );
      assert.equal((await post(gateway, 'task:h', [log], { traceparent: 'garbage' })).status, 200);
      const events = (await gateway.engine.read('task:h', 0, 10)).events;
      assert.deepEqual(
        events.map((e) => e.trace?.traceparent),
        [traceparent, own, undefined],
      );
      // A batch mixing two traces: its spans link to both instead of choosing one parent.
      const ingest = exporter.getFinishedSpans().find((s) => s.name === 'agentwire.ingest');
      assert.ok(ingest);
      assert.equal(ingest.parentSpanContext, undefined);
      assert.deepEqual(
        ingest.links.map((l) => l.context.traceId).sort(),
        [traceId, '0af7651916cd43dd8448eb211c80319c'].sort(),
      );
      // The untraced batch made no span at all.
      assert.equal(exporter.getFinishedSpans().filter((s) => s.name === 'agentwire.ingest').length, 1);
    } finally {
      await gateway.close();
    }
  });

  it('refuses a malformed trace field and marks a failed append on its span', async () => {
    exporter.reset();
    const gateway = await createGateway({ port: 0, logLevel: 'silent' });
    try {
      const log = { type: 'log:entry', data: { level: 'info', message: 'hi' } };
      const bad = await post(gateway, 'task:x', [{ ...log, trace: { traceparent: 'nope' } }]);
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_message');
      await gateway.engine.close();
      const failed = await post(gateway, 'task:x', [{ ...log, trace: { traceparent } }]);
      assert.notEqual(failed.status, 200);
      const spans = spansOf(traceId);
      assert.equal(one(spans, 'agentwire.append').status.code, SpanStatusCode.ERROR);
      assert.equal(one(spans, 'agentwire.ingest').status.code, SpanStatusCode.ERROR);
    } finally {
      await gateway.close();
    }
  });
});
