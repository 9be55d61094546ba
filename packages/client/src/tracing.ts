import {
  context,
  createTraceState,
  isSpanContextValid,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import type { AnyEnvelope, TraceContext } from '@agentwire/protocol';

// A no-op until the app registers an OpenTelemetry SDK: the helpers below then cost a few calls.
const tracer = trace.getTracer('@agentwire/client');

/** The producer's W3C trace context the event carries, if it was published inside a span. */
export function traceContextOf(event: Pick<AnyEnvelope, 'trace'>): TraceContext | undefined {
  return event.trace;
}

/** The producer's span an event names, as a remote span context; undefined for an untraced event. */
export function spanContextOf(event: Pick<AnyEnvelope, 'trace'>): SpanContext | undefined {
  const t = event.trace;
  if (t === undefined) return undefined;
  const [version, traceId, spanId, flags] = t.traceparent.split('-');
  if (version !== '00' || traceId === undefined || spanId === undefined || flags === undefined) return;
  const span: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
  if (t.tracestate) span.traceState = createTraceState(t.tracestate);
  return isSpanContextValid(span) ? span : undefined;
}

/**
 * An OpenTelemetry context whose parent span is the event's producer span, to continue its trace:
 * `context.with(contextOf(event), () => …)`. `base` (the active context by default) when the
 * event carries no trace.
 */
export function contextOf(event: Pick<AnyEnvelope, 'trace'>, base: Context = context.active()): Context {
  const span = spanContextOf(event);
  return span ? trace.setSpanContext(base, span) : base;
}

/**
 * Starts `agentwire.deliver`, the span of an event reaching this subscriber: a child of the
 * producer's span, so one trace runs from the agent's tool call through the gateway to here. The
 * caller ends it. An untraced event gets a span in the active trace, if any.
 */
export function startDeliverySpan(event: AnyEnvelope, name = 'agentwire.deliver'): Span {
  return tracer.startSpan(
    name,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'agentwire',
        'messaging.operation.type': 'process',
        'messaging.destination.name': event.stream,
        'messaging.message.id': event.id,
        'agentwire.event.type': event.type,
        'agentwire.seq': event.seq,
        // Publish-to-deliver in the gateway's clock against this one's: indicative across machines.
        'agentwire.delivery.lag_ms': Math.max(0, Date.now() - event.time),
      },
    },
    contextOf(event),
  );
}

/**
 * Runs `fn` inside a delivery span for `event` (active, so spans `fn` opens are its children) and
 * ends it when `fn` settles; a throw marks the span as failed and is rethrown.
 */
export function withDeliverySpan<T>(event: AnyEnvelope, fn: (span: Span) => T): T {
  const span = startDeliverySpan(event);
  const fail = (err: unknown): never => {
    if (span.isRecording()) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
    }
    span.end();
    throw err;
  };
  let result: T;
  try {
    result = context.with(trace.setSpan(context.active(), span), () => fn(span));
  } catch (err) {
    return fail(err);
  }
  if (result instanceof Promise) {
    return result.then((value: unknown) => {
      span.end();
      return value;
    }, fail) as T;
  }
  span.end();
  return result;
}
