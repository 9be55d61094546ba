import {
  AgentwireError,
  parseEventInput,
  type AnyEventInput,
  type EventType,
  type TraceContext,
} from '@agentwire/protocol';
import { newId } from './ids.js';
import { activeTraceContext } from './tracing.js';

/** An event ready to queue: validated, and carrying the id every retry of it will reuse. */
export type PreparedEvent = AnyEventInput & { id: string };

/**
 * Builds and validates an event where the caller made it, so a bad payload fails at the call that
 * caused it (`invalid_payload`) instead of poisoning a batch later. The data is copied through JSON:
 * what the gateway stores is fixed at call time, and in-process publishing sees exactly what HTTP
 * would send (no `undefined` keys, no live objects the caller mutates afterwards). The event carries
 * `trace`, by default the context of the OpenTelemetry span active at the call, if any.
 */
export function prepareEvent(
  type: EventType,
  data: unknown,
  id: string = newId(),
  trace: TraceContext | undefined = activeTraceContext(),
): PreparedEvent {
  let copy: unknown;
  let json: string;
  try {
    json = JSON.stringify(data);
    copy = JSON.parse(json) as unknown;
  } catch (err) {
    throw new AgentwireError(
      'invalid_payload',
      `Data for ${type} is not JSON-serializable: ${(err as Error).message}`,
    );
  }
  const event = parseEventInput(
    trace === undefined ? { id, type, data: copy } : { id, type, data: copy, trace },
  ) as PreparedEvent & { [ENCODED]?: string };
  // Under a symbol: JSON (the HTTP publisher) and schema checks see only the event's own fields.
  event[ENCODED] = json;
  return event;
}

// The text each prepared event's data was parsed from, for publishers that take it (in-process).
// A property rather than a WeakMap: thousands of events in flight as weak entries cost every GC.
const ENCODED = Symbol('agentwire.encodedData');

/** The JSON text of each event's data, when every one of them was prepared here. */
export function encodedData(events: readonly PreparedEvent[]): string[] | undefined {
  const jsons: string[] = [];
  for (const e of events) {
    const json = (e as { [ENCODED]?: string })[ENCODED];
    if (json === undefined) return undefined;
    jsons.push(json);
  }
  return jsons;
}
