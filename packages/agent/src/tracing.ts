import {
  context,
  isSpanContextValid,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import type { TraceContext } from '@agentwire/protocol';

// Without an OpenTelemetry SDK registered, this tracer and its spans are no-ops and no span is
// ever active: events then carry no trace and tool calls cost a few function calls.
export const tracer = trace.getTracer('@agentwire/agent');

/** The W3C form of a span context: what travels with an event in its envelope's `trace`. */
export function traceContextOf(span: SpanContext): TraceContext {
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  const traceparent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const tracestate = span.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The trace context of the span active where the caller is, if any. */
export function activeTraceContext(): TraceContext | undefined {
  const span = trace.getSpanContext(context.active());
  return span && isSpanContextValid(span) ? traceContextOf(span) : undefined;
}

/**
 * Runs `fn` inside a new active span, so the events it publishes carry that span's context and the
 * spans it opens (an LLM call, an HTTP request) become its children. The span ends with `fn`, its
 * status an error when `fn` throws.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

export function failed(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}
