import { AgentwireError } from '@agentwire/protocol';
import {
  Deadline,
  HttpStreamsTransport,
  notTheGateway,
  readJson,
  type StreamContext,
} from './http-transport.js';
import { SseParser, type SseMessage } from './sse-parser.js';
import { TransportClosedError } from './transport.js';

/** Silence on a live event stream longer than this means it is dead: the gateway comments every 15 s. */
const IDLE_MS = 45_000;

/**
 * Server-Sent Events, one `GET /v1/streams/{stream}/sse` per subscription, read with `fetch`
 * streaming (Node 20 has no EventSource, and one code path can send headers everywhere).
 *
 * A request resumes from the subscription's position (`since`/`epoch`), so what the gateway sends
 * is exactly what a WebSocket `subscribe` would get: a `subscribed` message, then the events after
 * the position. Those become native frames for the client. A stream that ends or goes silent ends
 * the whole transport, as a dropped WebSocket would; the client then resumes every subscription.
 */
export class SseTransport extends HttpStreamsTransport {
  readonly kind = 'sse';

  protected async read(ctx: StreamContext): Promise<void> {
    const params: Record<string, string> = {};
    if (ctx.since) {
      params['since'] = String(ctx.since.seq);
      if (ctx.since.epoch !== undefined) params['epoch'] = ctx.since.epoch;
    }
    if (ctx.snapshot) params['snapshot'] = '1';
    await follow(ctx, ctx.url('sse', params), false);
  }

  /** A live event stream that delivers its `subscribed` message, so nothing in between buffers it. */
  protected async prove(ctx: StreamContext): Promise<void> {
    await follow(ctx, ctx.url('sse', {}), true);
  }
}

/** Reads one event stream until it ends, errs, or (with `proofOnly`) has said `subscribed`. */
async function follow(ctx: StreamContext, url: string, proofOnly: boolean): Promise<void> {
  const deadline = new Deadline(ctx.signal);
  // Proxies that buffer responses hold the stream back entirely; waiting forever would hide that.
  deadline.expireIn(ctx.openTimeoutMs, {
    code: 1006,
    reason: 'No subscribed message on the event stream in time; something may be buffering it.',
    unavailable: true,
  });
  let body: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    const res = await ctx.fetch(url, { headers: { accept: 'text/event-stream' }, signal: deadline.signal });
    if (!/^text\/event-stream\b/i.test(res.headers.get('content-type') ?? '')) {
      // The gateway refuses as an event stream, except in front of the route (an origin it does
      // not allow): that typed JSON error is its answer too. Anything else is not the gateway.
      const answer = await readJson(res, 'GET …/sse');
      if (!(answer instanceof AgentwireError)) throw notTheGateway(res, 'GET …/sse');
      ctx.refused(answer);
      return;
    }
    if (!res.body) {
      throw new TransportClosedError({ code: 1006, reason: 'This fetch cannot stream.', unavailable: true });
    }
    body = res.body.getReader();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const state = { subscribed: false, done: false };
    for (;;) {
      const { done, value } = await body.read();
      if (done) break;
      if (state.subscribed)
        deadline.expireIn(IDLE_MS, { code: 1006, reason: 'The event stream went silent.' });
      handle(ctx, parser.feed(decoder.decode(value, { stream: true })), state, proofOnly, deadline);
      if (state.done) return;
    }
    if (ctx.signal.aborted) return;
    throw new TransportClosedError({ code: 1006, reason: 'The event stream ended.' });
  } catch (err) {
    if (deadline.expired) throw deadline.expired;
    if (ctx.signal.aborted) return;
    throw err;
  } finally {
    deadline.dispose();
    // Releases the connection when we stop reading before the gateway ends the response.
    body?.cancel().catch(() => {});
  }
}

/**
 * One chunk's messages as native frames. Consecutive events become one `events` frame, flushed
 * before anything else so the order on the wire is the order the client sees.
 */
function handle(
  ctx: StreamContext,
  messages: SseMessage[],
  state: { subscribed: boolean; done: boolean },
  proofOnly: boolean,
  deadline: Deadline,
): void {
  const events: string[] = [];
  const flush = () => {
    if (events.length === 0) return;
    // The envelopes are the gateway's JSON already; splicing them in spares a parse and a stringify
    // per event, and the client validates the frame as it validates every WebSocket frame.
    ctx.emit(`{"op":"events","stream":${JSON.stringify(ctx.stream)},"events":[${events.join(',')}]}`);
    events.length = 0;
  };
  for (const message of messages) {
    switch (message.event) {
      case 'event':
        if (state.subscribed) events.push(message.data);
        break;
      case 'subscribed':
        flush();
        state.subscribed = true;
        deadline.expireIn(IDLE_MS, { code: 1006, reason: 'The event stream went silent.' });
        if (proofOnly) {
          state.done = true;
          return;
        }
        ctx.emit(withRef(message.data, ctx.ref));
        break;
      case 'error':
        flush();
        state.done = true;
        ctx.refused(errorOf(message.data));
        return;
      default:
        break; // event names this client does not know yet
    }
  }
  flush();
}

/** The gateway's `subscribed` op, answering the client's subscribe by its ref. */
function withRef(data: string, ref: string | undefined): string {
  if (ref === undefined) return data;
  try {
    const op = JSON.parse(data) as unknown;
    if (typeof op === 'object' && op !== null) return JSON.stringify({ ...op, ref });
  } catch {
    // Malformed: the client reports it like any malformed frame.
  }
  return data;
}

function errorOf(data: string): AgentwireError {
  try {
    return AgentwireError.from(JSON.parse(data));
  } catch {
    return new AgentwireError('internal', 'Malformed error event.');
  }
}
