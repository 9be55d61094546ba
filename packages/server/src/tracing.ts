import {
  context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import { TRACEPARENT_PATTERN, type AnyEnvelope, type TraceContext } from '@agentwire/protocol';
import type { AppendBatchResult, AppendInput } from './log/engine.js';

// A no-op until the process registers an OpenTelemetry SDK (`agentwire serve --otel`). Spans are
// made only for batches that carry a producer's trace context (or run inside an active span), so
// untraced traffic costs a property check per event, SDK or not.
const tracer = trace.getTracer('@agentwire/server');

/** At most this many producers' contexts are linked from one span (a batch mixing many traces). */
const MAX_LINKS = 32;

/** The span context a stored `traceparent` names, as a remote parent; undefined when malformed. */
export function spanContextOf(trace: TraceContext): SpanContext | undefined {
  const [version, traceId, spanId, flags] = trace.traceparent.split('-');
  if (version !== '00' || traceId === undefined || spanId === undefined || flags === undefined) return;
  const span: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
  if (trace.tracestate) span.traceState = createTraceState(trace.tracestate);
  return isSpanContextValid(span) ? span : undefined;
}

/**
 * The parent for a span about `items`: the one producer context they share, else the active one
 * with a link to each distinct producer context. Undefined when there is nothing to trace.
 */
function parentOf(
  items: readonly { trace?: TraceContext }[],
): { parent: Context; links: Link[] } | undefined {
  let first: TraceContext | undefined;
  let distinct: Map<string, TraceContext> | undefined;
  for (const item of items) {
    const t = item.trace;
    if (t === undefined) continue;
    if (first === undefined) first = t;
    else if (t.traceparent !== first.traceparent) {
      distinct ??= new Map([[first.traceparent, first]]);
      if (distinct.size < MAX_LINKS) distinct.set(t.traceparent, t);
    }
  }
  const active = context.active();
  if (first === undefined) return trace.getSpan(active) ? { parent: active, links: [] } : undefined;
  if (distinct === undefined) {
    const span = spanContextOf(first);
    return span ? { parent: trace.setSpanContext(ROOT_CONTEXT, span), links: [] } : undefined;
  }
  const links: Link[] = [];
  for (const t of distinct.values()) {
    const span = spanContextOf(t);
    if (span) links.push({ context: span });
  }
  return { parent: active, links };
}

export function failSpan(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/**
 * `agentwire.ingest`, around one batch from its validation to its answer, and `agentwire.append`
 * inside it, around the log's durable write. Undefined for an untraced batch.
 */
export class IngestTrace {
  private appending = true;

  private constructor(
    readonly ingest: Span,
    private readonly append: Span,
    readonly appendContext: Context,
  ) {}

  static start(stream: string, inputs: readonly AppendInput[], engine: string): IngestTrace | undefined {
    const found = parentOf(inputs);
    if (!found) return undefined;
    const attributes = {
      'messaging.system': 'agentwire',
      'messaging.operation.type': 'receive',
      'messaging.destination.name': stream,
      'messaging.batch.message_count': inputs.length,
    };
    const ingest = tracer.startSpan(
      'agentwire.ingest',
      { kind: SpanKind.CONSUMER, attributes, links: found.links },
      found.parent,
    );
    const inIngest = trace.setSpan(found.parent, ingest);
    const append = tracer.startSpan(
      'agentwire.append',
      { attributes: { 'agentwire.log.engine': engine, 'messaging.destination.name': stream } },
      inIngest,
    );
    return new IngestTrace(ingest, append, trace.setSpan(inIngest, append));
  }

  appended(batch: AppendBatchResult): void {
    this.appending = false;
    if (this.append.isRecording()) {
      let duplicates = 0;
      for (const r of batch.results) if (r.duplicate) duplicates++;
      this.append.setAttributes({
        'agentwire.events.appended': batch.appended.length,
        'agentwire.events.duplicate': duplicates,
        ...(batch.appended.length > 0 && {
          'agentwire.seq.first': batch.appended[0]!.seq,
          'agentwire.seq.last': batch.appended[batch.appended.length - 1]!.seq,
        }),
      });
    }
    this.append.end();
  }

  failed(err: unknown): void {
    if (this.appending) {
      this.appending = false;
      failSpan(this.append, err);
      this.append.end();
    }
    failSpan(this.ingest, err);
    this.ingest.end();
  }

  end(): void {
    this.ingest.end();
  }
}

/**
 * `agentwire.fanout`: one commit handed to this node's subscribers, child of the producer's span
 * (read back from the events, so a node fanning out another node's commit joins the same trace).
 */
export function startFanOut(stream: string, events: readonly AnyEnvelope[]): Span | undefined {
  const found = parentOf(events);
  if (!found) return undefined;
  return tracer.startSpan(
    'agentwire.fanout',
    {
      kind: SpanKind.PRODUCER,
      links: found.links,
      attributes: {
        'messaging.system': 'agentwire',
        'messaging.operation.type': 'send',
        'messaging.destination.name': stream,
        'messaging.batch.message_count': events.length,
        'agentwire.seq.first': events[0]?.seq ?? 0,
        'agentwire.seq.last': events[events.length - 1]?.seq ?? 0,
      },
    },
    found.parent,
  );
}

const TRACEPARENT = new RegExp(TRACEPARENT_PATTERN);
const TRACESTATE = /^[\x20-\x7e]{0,512}$/;

/**
 * Events published over HTTP without a `trace` of their own take the request's `traceparent` and
 * `tracestate` headers, which an instrumented HTTP client sends by itself. A malformed header is
 * ignored (a proxy's mistake should not refuse the events); a malformed `trace` field is refused.
 */
export function withHeaderTrace(events: unknown[], headers: IncomingHttpHeaders): unknown[] {
  const traceparent = headers.traceparent;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return events;
  const tracestate = headers.tracestate;
  const trace: TraceContext =
    typeof tracestate === 'string' && tracestate !== '' && TRACESTATE.test(tracestate)
      ? { traceparent, tracestate }
      : { traceparent };
  return events.map((e) =>
    typeof e === 'object' && e !== null && !Array.isArray(e) && !('trace' in e) ? { ...e, trace } : e,
  );
}
