import { AgentwireError, type PollAnswer, type SubscribedOp } from '@agentwire/protocol';
import { Deadline, HttpStreamsTransport, pause, readJson, type StreamContext } from './http-transport.js';
import { TransportClosedError } from './transport.js';

/** Seconds a poll may wait for news; the gateway clamps it to its own maximum (25 s by default). */
const WAIT_S = 25;
/** A poll answers within its wait; this much longer and it is given up as lost. */
const ANSWER_GRACE_MS = 10_000;
/** Empty answers faster than this (a gateway told not to wait) must not become a hot loop. */
const MIN_EMPTY_INTERVAL_MS = 500;

/**
 * HTTP long-polling, one loop of `GET /v1/streams/{stream}/poll` per subscription. The first poll
 * answers at once (`wait=0`) from the subscription's position and becomes its `subscribed`; each
 * next poll asks for what follows the last event it got (or `head`), so the loop is gapless by
 * construction and the client's dedupe only has to guard the switch between transports.
 */
export class PollingTransport extends HttpStreamsTransport {
  readonly kind = 'polling';

  protected async read(ctx: StreamContext): Promise<void> {
    let after = ctx.since?.seq;
    let epoch = ctx.since?.epoch;
    let first = true;
    while (!ctx.signal.aborted) {
      const params: Record<string, string> = { wait: first ? '0' : String(WAIT_S) };
      if (after !== undefined) params['after'] = String(after);
      if (epoch !== undefined) params['epoch'] = epoch;
      if (first && ctx.snapshot) params['snapshot'] = '1';
      const started = Date.now();
      const answer = await poll(ctx, params, first ? ctx.openTimeoutMs : WAIT_S * 1000 + ANSWER_GRACE_MS);
      if (answer === undefined) return; // unsubscribed or closed meanwhile
      if (answer instanceof AgentwireError) {
        ctx.refused(answer);
        return;
      }
      if (first) {
        first = false;
        ctx.emit(subscribedOp(ctx, answer));
      } else if (!answer.recovered || answer.epoch !== epoch) {
        // Our position left the retained history between two polls (or another history answered).
        // A fresh subscription from the client's position gets the snapshot and the reset, exactly
        // as when the gateway drops a WebSocket subscriber whose history was trimmed.
        throw new TransportClosedError({ code: 1006, reason: `The history of ${ctx.stream} changed.` });
      }
      const last = answer.events[answer.events.length - 1];
      if (last) ctx.emit({ op: 'events', stream: ctx.stream, events: answer.events });
      after = last?.seq ?? answer.head;
      epoch = answer.epoch;
      // The handshake answers at once by design; only a poll that was asked to wait counts here.
      if (!last && params['wait'] !== '0') {
        const rest = MIN_EMPTY_INTERVAL_MS - (Date.now() - started);
        if (rest > 0) await pause(rest, ctx.signal);
      }
    }
  }

  /** A handshake poll: any answer of the gateway's shows polls reach it. */
  protected async prove(ctx: StreamContext): Promise<void> {
    const answer = await poll(ctx, { wait: '0' }, ctx.openTimeoutMs);
    // A refusal about this stream still proves the route; one about the connection does not.
    if (answer instanceof AgentwireError) ctx.refused(answer);
  }
}

/** One poll: its answer, the gateway's typed refusal, or undefined when aborted from outside. */
async function poll(
  ctx: StreamContext,
  params: Record<string, string>,
  timeoutMs: number,
): Promise<PollAnswer | AgentwireError | undefined> {
  const deadline = new Deadline(ctx.signal);
  deadline.expireIn(timeoutMs, { code: 1006, reason: 'A poll got no answer in time.' });
  try {
    const res = await ctx.fetch(ctx.url('poll', params), {
      headers: { accept: 'application/json' },
      signal: deadline.signal,
    });
    const body = await readJson(res, 'GET …/poll');
    if (body instanceof AgentwireError) return body;
    if (!isPollAnswer(body)) {
      throw new TransportClosedError({
        code: 1006,
        reason: 'A poll answer is malformed.',
        unavailable: true,
      });
    }
    return body;
  } catch (err) {
    if (deadline.expired) throw deadline.expired;
    if (ctx.signal.aborted) return undefined;
    throw err;
  } finally {
    deadline.dispose();
  }
}

/**
 * The first answer as the `subscribed` a WebSocket would send. Its `seq` is where the events
 * continue from (the client reads it only when it joined at the live tail).
 */
function subscribedOp(ctx: StreamContext, answer: PollAnswer): SubscribedOp {
  const first = answer.events[0];
  return {
    op: 'subscribed',
    stream: ctx.stream,
    epoch: answer.epoch,
    seq: first ? first.seq - 1 : answer.head,
    recovered: answer.recovered,
    ...(answer.snapshot && { snapshot: answer.snapshot }),
    ...(ctx.ref !== undefined && { ref: ctx.ref }),
  };
}

/**
 * The fields this transport reads, checked loosely: a gateway newer than this client may add
 * fields (the protocol's `PollAnswerSchema` is the strict contract the gateway is tested against).
 */
function isPollAnswer(body: unknown): body is PollAnswer {
  const b = body as Partial<PollAnswer> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.epoch === 'string' &&
    typeof b.head === 'number' &&
    typeof b.recovered === 'boolean' &&
    Array.isArray(b.events)
  );
}
