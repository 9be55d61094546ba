import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentwireError, type SubscribedOp } from '@agentwire/protocol';
import type { Security } from '../auth/security.js';
import type { Limits } from '../limits/limits.js';
import { retryAfterSeconds } from '../http/respond.js';
import type { Hub, SubscribeRequest, SubscribeResult, Subscription } from '../hub/hub.js';
import type { Sink } from '../hub/sink.js';
import type { Logger } from '../logger.js';
import { assertGet, decodeStream, flagParam, matchStreamRoute, sinceFrom } from './http-params.js';
import { envelopesOf } from './native-frames.js';
import type { Edge } from '../edge/edge.js';

export interface SseTransportOptions {
  hub: Hub;
  limits: Limits;
  logger: Logger;
  security: Security;
}

/** How long an ended slow consumer may take to drain before its socket is destroyed. */
const DRAIN_GRACE_MS = 10_000;

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // nginx buffers proxied responses unless told not to; an event stream must flow as written.
  'x-accel-buffering': 'no',
} as const;

/**
 * Server-Sent Events, one stream per request: `GET /v1/streams/{stream}/sse`. The resume position
 * is the `Last-Event-ID` header (an event's seq, which a browser's EventSource sends by itself on
 * reconnect) or else `?since=<seq>[&epoch=]`; `snapshot=1` asks for a late joiner's snapshot.
 * Positioning and catch-up are the hub's, so the guarantee is the WebSocket's: gapless and
 * duplicate-free across reconnects.
 */
export class SseTransport implements Edge {
  private readonly connections = new Set<SseConnection>();
  private readonly heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: SseTransportOptions) {
    // 0 (or less) turns heartbeats off rather than spinning an interval of 0 ms.
    if (options.limits.sseHeartbeatMs > 0) {
      this.heartbeat = setInterval(() => {
        for (const c of this.connections) c.beat();
      }, options.limits.sseHeartbeatMs);
      this.heartbeat.unref();
    }
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Serves the SSE route; false for any other path, so the caller routes it elsewhere. */
  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const raw = matchStreamRoute(url.pathname, 'sse');
    if (raw === undefined) return false;
    let stream: string;
    let request: SubscribeRequest;
    try {
      assertGet(req.method);
      stream = decodeStream(raw);
      request = subscribeRequest(req, url);
    } catch (err) {
      refuse(res, err);
      return true;
    }
    // EventSource cannot set headers: browsers authenticate with ?token= (docs/security.md).
    const { security } = this.options;
    let connection: SseConnection | undefined;
    const session = security.openSession({ end: (err) => connection?.fail(err) });
    res.once('close', () => session.close());
    security
      .principalOf(req, url)
      .then(async (principal) => {
        // Checked here as well as by the hub, so a refusal is an HTTP status EventSource gives up on.
        if (security.enabled) await security.access.assertRead(principal, stream);
        if (res.destroyed) return;
        await session.adopt(principal);
        if (res.destroyed) return;
        connection = new SseConnection(res, stream, this.options);
        security.bind(connection, session);
        this.connections.add(connection);
        const opened = connection;
        res.once('close', () => {
          this.connections.delete(opened);
          opened.dispose();
        });
        opened.start(request);
      })
      .catch((err: unknown) => {
        session.close();
        if (!res.headersSent) refuse(res, err);
      });
    return true;
  }

  /** Ends every stream with `shutting_down`; clients reconnect (elsewhere) and resume. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.connections) c.fail(new AgentwireError('shutting_down'));
  }
}

function subscribeRequest(req: IncomingMessage, url: URL): SubscribeRequest {
  const epoch = url.searchParams.get('epoch') || null;
  const header = req.headers['last-event-id'];
  // Last-Event-ID is where the client really is (EventSource keeps the original URL on reconnect).
  const since =
    typeof header === 'string' && header !== ''
      ? sinceFrom(header, epoch, 'Last-Event-ID')
      : sinceFrom(url.searchParams.get('since') || undefined, epoch, 'Query parameter since');
  const request: SubscribeRequest = {};
  if (since) request.since = since;
  if (flagParam(url, 'snapshot')) request.snapshot = true;
  return request;
}

/** One SSE message. `data` must be a single line, which JSON from `JSON.stringify` always is. */
function message(event: string, data: string, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`;
}

function errorMessage(err: unknown, stream?: string): string {
  const e = err instanceof AgentwireError ? err : new AgentwireError('internal');
  return message('error', JSON.stringify({ ...e.toJSON(), ...(stream !== undefined && { stream }) }));
}

/**
 * Refuses a request before any stream starts: the registry's HTTP status, so a browser's
 * EventSource gives up instead of retrying bad input forever, and an `error` event as the body, so
 * a client reading the stream sees the same typed error it would mid-stream.
 */
function refuse(res: ServerResponse, err: unknown): void {
  const e = err instanceof AgentwireError ? err : new AgentwireError('internal');
  const body = errorMessage(e);
  const retryAfter = retryAfterSeconds(e);
  res.writeHead(e.status, {
    ...STREAM_HEADERS,
    'content-length': Buffer.byteLength(body),
    ...(e.code === 'method_not_allowed' && { allow: 'GET' }),
    ...(retryAfter !== undefined && { 'retry-after': String(retryAfter) }),
  });
  res.end(body);
}

let lastFrame: string | Uint8Array | undefined;
let lastText = '';

/**
 * SSE text for a native frame: one message per event, each with its seq as `id`, so the browser's
 * Last-Event-ID is exact even when the hub batched events into one frame. Memoized like
 * `envelopesOf`, because every subscriber of a stream receives the same frame.
 */
function sseText(frame: string | Uint8Array): string {
  if (frame === lastFrame) return lastText;
  let text = '';
  for (const e of envelopesOf(frame)) text += message('event', JSON.stringify(e), e.seq);
  lastFrame = frame;
  lastText = text;
  return text;
}

class SseConnection implements Sink {
  private sub: Subscription | undefined;
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly stream: string,
    private readonly options: SseTransportOptions,
  ) {
    res.socket?.setNoDelay(true);
    res.writeHead(200, STREAM_HEADERS);
    res.write(`retry: ${options.limits.sseRetryMs}\n\n`);
  }

  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  start(request: SubscribeRequest): void {
    const { hub } = this.options;
    const sub = hub.open(this.stream, this);
    this.sub = sub;
    hub
      .start(sub, request, (result) => this.subscribed(result, request))
      .catch((err: unknown) => {
        if (!(err instanceof AgentwireError)) this.options.logger.error({ err }, 'sse subscribe failed');
        this.fail(err);
      });
  }

  /**
   * The `subscribed` message carries the position the events continue from as its `id`, so a
   * client that reconnects before any event arrives still resumes from the right place instead of
   * re-joining the live tail and missing what was committed meanwhile.
   */
  private subscribed(result: SubscribeResult, request: SubscribeRequest): void {
    const from = result.snapshot?.seq ?? (result.recovered && request.since ? request.since.seq : result.seq);
    const op: SubscribedOp = { op: 'subscribed', ...result };
    this.write(message('subscribed', JSON.stringify(op), from));
  }

  send(frame: string | Uint8Array): void {
    this.write(sseText(frame));
  }

  /** The hub dropped us for falling behind: say why and end; the client resumes with Last-Event-ID. */
  overflow(): void {
    this.fail(new AgentwireError('slow_consumer'));
  }

  /** Access to the stream was withdrawn: the typed error, then the end. */
  revoke(_stream: string, err: AgentwireError): void {
    this.fail(err);
  }

  /** A comment line; skipped while data is still queued, which keeps the connection busy anyway. */
  beat(): void {
    if (!this.ended && this.res.writableLength === 0) this.res.write(': keep-alive\n\n');
  }

  /** Ends the stream with a typed `error` event. */
  fail(err: unknown): void {
    if (this.ended) return;
    this.write(errorMessage(err, this.stream));
    this.ended = true;
    this.dispose();
    this.res.end();
    // A consumer that stopped reading would hold the socket forever; end() alone waits for it.
    const timer = setTimeout(() => this.res.destroy(), DRAIN_GRACE_MS);
    timer.unref();
    this.res.once('close', () => clearTimeout(timer));
  }

  dispose(): void {
    if (this.sub) this.options.hub.unsubscribe(this.sub);
    this.sub = undefined;
  }

  private write(text: string): void {
    if (!this.ended && !this.res.destroyed && text !== '') this.res.write(text);
  }
}
