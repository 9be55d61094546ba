import {
  AgentwireError,
  parseClientOp,
  parseCommand,
  type AnyEnvelope,
  type ErrorOp,
} from '@agentwire/protocol';
import type { Emit, Outcome, SocketIoDialect } from '../dialect.js';

/**
 * The native protocol (docs/protocol.md) carried in Socket.IO events instead of WebSocket frames:
 * `subscribe` / `unsubscribe` / `command` with acknowledgements shaped like the native ops, and
 * `event` / `events` pushed as the hub delivers them. Seq-based resume works exactly as on the
 * WebSocket, because subscriptions go through the same hub.
 */

function object(payload: unknown, what: string): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new AgentwireError('invalid_message', `${what} takes an object.`);
  }
  return payload as Record<string, unknown>;
}

/** Validates through the native parser, so errors name the same fields as on the WebSocket. */
function asOp(op: 'subscribe' | 'unsubscribe', payload: unknown) {
  const fields = object(payload, op);
  return parseClientOp(JSON.stringify({ ...fields, op }));
}

function errorOp(err: AgentwireError, event?: string): ErrorOp & { event?: string } {
  const op: ErrorOp & { event?: string } = { op: 'error', code: err.code, message: err.message };
  if (err.details !== undefined) op.details = err.details;
  if (event !== undefined) op.event = event;
  return op;
}

function reply(outcome: Outcome): unknown {
  switch (outcome.kind) {
    case 'subscribed':
      return { op: 'subscribed', ...outcome.result, stream: outcome.stream };
    case 'unsubscribed':
      return { op: 'unsubscribed', stream: outcome.stream };
    case 'command':
      return outcome.result === undefined ? { op: 'ack' } : { op: 'ack', result: outcome.result };
    case 'error':
      return errorOp(outcome.error);
    default:
      return { op: 'ack' };
  }
}

/** Consecutive events of one stream go out as one `events` message, like the WebSocket's frames. */
function batches(events: readonly AnyEnvelope[]): Emit[] {
  const out: Emit[] = [];
  for (let i = 0; i < events.length;) {
    const stream = events[i]!.stream;
    let j = i + 1;
    while (j < events.length && events[j]!.stream === stream) j++;
    out.push(
      j - i === 1
        ? { event: 'event', payload: events[i] }
        : { event: 'events', payload: { stream, events: events.slice(i, j) } },
    );
    i = j;
  }
  return out;
}

export const nativeDialect: SocketIoDialect = {
  name: 'native',
  needsState: false,
  inbound: {
    subscribe(payload) {
      const op = asOp('subscribe', payload);
      if (op.op !== 'subscribe') throw new AgentwireError('invalid_message');
      return [
        {
          kind: 'subscribe',
          stream: op.stream,
          ...(op.since && { since: op.since }),
          ...(op.snapshot && { snapshot: 'ack' as const }),
          mode: 'fresh',
        },
      ];
    },
    unsubscribe(payload) {
      const op = asOp('unsubscribe', payload);
      if (op.op !== 'unsubscribe') throw new AgentwireError('invalid_message');
      return [{ kind: 'unsubscribe', stream: op.stream }];
    },
    command: (payload) => [{ kind: 'command', command: parseCommand(payload) }],
  },
  event: (e) => [{ event: 'event', payload: e }],
  events: batches,
  reply,
  // Without an ack callback the outcome still reaches the client, as the native ops do.
  unacked(outcome) {
    if (outcome.kind === 'subscribed' || outcome.kind === 'unsubscribed')
      return { event: outcome.kind, payload: reply(outcome) };
    return undefined;
  },
  error: (err, event) => ({ event: 'error', payload: errorOp(err, event) }),
};
