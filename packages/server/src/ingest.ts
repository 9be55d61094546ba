import {
  AgentwireError,
  assertStreamName,
  GATEWAY_ONLY_EVENT_TYPES,
  parseEventInput,
  timeOrderedId,
  type AnyEventInput,
  type PublishResult,
} from '@agentwire/protocol';
import { context } from '@opentelemetry/api';
import { encodeData } from './log/codec.js';
import type { AppendBatchResult, AppendInput, LogEngine } from './log/engine.js';
import { IngestTrace } from './tracing.js';

/** The gateway's answer to a publish, as @agentwire/protocol defines it. */
export type { PublishResult };

/**
 * The one way into the log: validates every event against the catalog, gives it an id and a time,
 * and appends the batch. Whatever the transport (in-process, HTTP, AMQP), producers end up here.
 */
export class Ingest {
  constructor(
    private readonly engine: LogEngine,
    private readonly maxEventsPerBatch: number,
    /** Runs after each commit, before the producer is answered: the project streams' copies. */
    private readonly afterCommit?: (stream: string, batch: AppendBatchResult) => Promise<void>,
  ) {}

  /**
   * `owned`: the events were parsed for this call and nobody else holds them, so the log keeps
   * their data as it is instead of encoding and then copying it (one JSON parse less per event).
   * An array gives each event's data already encoded (the agent SDK in-process). In-process callers
   * of the plain gateway API may still hold and mutate what they passed: never owned.
   */
  async publish(
    stream: string,
    events: readonly unknown[],
    owned: boolean | string[] = false,
  ): Promise<PublishResult> {
    assertStreamName(stream);
    if (!Array.isArray(events) || events.length === 0) {
      throw new AgentwireError('invalid_message', 'A batch needs at least one event.');
    }
    if (events.length > this.maxEventsPerBatch) {
      throw new AgentwireError(
        'too_many_events',
        `A batch holds at most ${this.maxEventsPerBatch} events; got ${events.length}.`,
      );
    }
    const now = Date.now();
    const inputs: AppendInput[] = events.map((raw, index) => {
      let event: AnyEventInput;
      try {
        event = parseEventInput(raw);
      } catch (err) {
        if (err instanceof AgentwireError) {
          throw new AgentwireError(err.code, `events[${index}]: ${err.message}`, {
            index,
            ...asObject(err.details),
          });
        }
        throw err;
      }
      if (GATEWAY_ONLY_EVENT_TYPES.has(event.type)) {
        throw new AgentwireError(
          'forbidden',
          `events[${index}]: ${event.type} is written by the gateway only.`,
          {
            index,
          },
        );
      }
      const input: AppendInput = {
        id: event.id ?? timeOrderedId(now),
        type: event.type,
        data: event.data,
        time: now,
      };
      // A copy: an in-process caller may still hold and change the object it passed.
      const { trace } = event;
      if (trace) {
        input.trace =
          trace.tracestate === undefined
            ? { traceparent: trace.traceparent }
            : { traceparent: trace.traceparent, tracestate: trace.tracestate };
      }
      if (Array.isArray(owned)) {
        const json = owned[index];
        if (typeof json !== 'string') {
          throw new AgentwireError('invalid_message', `events[${index}] has no encoded data.`, { index });
        }
        input.json = json;
      } else if (owned) {
        try {
          input.json = encodeData(event.data);
        } catch (err) {
          throw new AgentwireError('invalid_payload', `events[${index}]: ${(err as Error).message}`, {
            index,
          });
        }
      }
      return input;
    });
    const traced = IngestTrace.start(stream, inputs, this.engine.kind);
    if (!traced) {
      const batch = await this.engine.append(stream, inputs);
      if (this.afterCommit) await this.afterCommit(stream, batch);
      return { stream, epoch: batch.epoch, results: batch.results };
    }
    try {
      const batch = await context.with(traced.appendContext, () => this.engine.append(stream, inputs));
      traced.appended(batch);
      if (this.afterCommit) await this.afterCommit(stream, batch);
      traced.end();
      return { stream, epoch: batch.epoch, results: batch.results };
    } catch (err) {
      traced.failed(err);
      throw err;
    }
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
