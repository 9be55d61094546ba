import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentwireError, type AnyEnvelope, type PollAnswer } from '@agentwire/protocol';
import type { Security } from '../auth/security.js';
import type { Limits } from '../limits/limits.js';
import { sendError, sendJson } from '../http/respond.js';
import type { Hub, SubscribeRequest, SubscribeResult, Subscription } from '../hub/hub.js';
import type { Sink } from '../hub/sink.js';
import type { Logger } from '../logger.js';
import {
  assertGet,
  countParam,
  decodeStream,
  flagParam,
  matchStreamRoute,
  secondsParam,
  sinceFrom,
} from './http-params.js';
import { envelopesOf } from './native-frames.js';
import type { Edge } from '../edge/edge.js';

export interface PollingTransportOptions {
  hub: Hub;
  limits: Limits;
  logger: Logger;
  security: Security;
}

interface PollParams {
  stream: string;
  request: SubscribeRequest;
  waitMs: number;
  limit: number;
}

/**
 * HTTP long-polling, one stream per request: `GET /v1/streams/{stream}/poll?after=&epoch=&wait=&limit=`.
 *
 * Stateless: a poll is a short-lived hub subscription resuming from `after`, so the hub reads what
 * the client missed from the log and then waits for the next commit, exactly as for a resumed
 * WebSocket. Any node can answer any poll and no session outlives a request, so no sticky sessions.
 * A stale epoch or an `after` outside the retained history gets `recovered: false` and a snapshot,
 * also exactly as on the WebSocket. Without `after` the poll is a handshake and answers at once
 * with the current position (and a snapshot with `snapshot=1`).
 */
export class PollingTransport implements Edge {
  private readonly pending = new Set<PendingPoll>();

  constructor(private readonly options: PollingTransportOptions) {}

  /** Polls waiting for news right now. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Serves the polling route; false for any other path, so the caller routes it elsewhere. */
  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const raw = matchStreamRoute(url.pathname, 'poll');
    if (raw === undefined) return false;
    let params: PollParams;
    try {
      params = this.params(req, url, raw);
    } catch (err) {
      sendError(res, err);
      return true;
    }
    const { security } = this.options;
    // A waiting poll is a connection like any other: it holds one of its user's slots.
    const session = security.openSession({ end: (err) => poll.fail(err) });
    const poll: PendingPoll = new PendingPoll(res, params, this.options.hub, () => {
      this.pending.delete(poll);
      session.close();
    });
    this.pending.add(poll);
    security
      .principalOf(req, url)
      .then(async (principal) => {
        if (res.destroyed) return; // gone while its credential was checked
        await session.adopt(principal);
        // The hub's guard checks the stream against whoever this poll is for.
        security.bind(poll, principal);
        return poll.run();
      })
      .catch((err: unknown) => {
        if (!(err instanceof AgentwireError)) this.options.logger.error({ err }, 'poll failed');
        poll.fail(err);
      });
    return true;
  }

  /** Answers every waiting poll with what it has, so clients poll again (elsewhere) on shutdown. */
  close(): void {
    for (const poll of this.pending) poll.answer();
  }

  private params(req: IncomingMessage, url: URL, raw: string): PollParams {
    assertGet(req.method);
    const { limits } = this.options;
    const stream = decodeStream(raw);
    const since = sinceFrom(
      url.searchParams.get('after') || undefined,
      url.searchParams.get('epoch') || null,
      'Query parameter after',
    );
    const request: SubscribeRequest = {};
    if (since) request.since = since;
    if (flagParam(url, 'snapshot')) request.snapshot = true;
    return {
      stream,
      request,
      waitMs: secondsParam(url, 'wait', limits.maxPollWaitMs, Math.max(0, limits.maxPollWaitMs)),
      limit: countParam(url, 'limit', limits.maxReadLimit, limits.maxReadLimit),
    };
  }
}

/** One poll in flight: a sink that collects events for a single answer. */
class PendingPoll implements Sink {
  readonly bufferedBytes = 0;
  private readonly events: AnyEnvelope[] = [];
  private sub: Subscription | undefined;
  private ready: SubscribeResult | undefined;
  /** Where the client stands: the last event collected, else the position the events start after. */
  private position = 0;
  private head = 0;
  private live = false;
  private done = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly params: PollParams,
    private readonly hub: Hub,
    private readonly onDone: () => void,
  ) {
    res.once('close', () => this.finish());
  }

  async run(): Promise<void> {
    const { stream, request, waitMs } = this.params;
    this.sub = this.hub.open(stream, this);
    await this.hub.start(this.sub, request, (result) => {
      this.ready = result;
      this.head = result.seq;
      this.position =
        result.snapshot?.seq ?? (result.recovered && request.since ? request.since.seq : result.seq);
    });
    if (this.done) return;
    // Anything the client did not have yet is news: missed events, a snapshot, a first position.
    const news = this.events.length > 0 || this.ready?.snapshot !== undefined || !request.since;
    if (news || waitMs === 0) {
      this.answer();
      return;
    }
    this.live = true;
    this.timer = setTimeout(() => this.answer(), waitMs);
  }

  send(frame: string | Uint8Array): void {
    if (this.done) return;
    for (const e of envelopesOf(frame)) {
      this.head = Math.max(this.head, e.seq);
      if (this.events.length < this.params.limit) {
        this.events.push(e);
        this.position = e.seq;
      }
    }
    // A full answer needs nothing more from the log: stop the hub's catch-up here.
    if (this.events.length >= this.params.limit) this.unsubscribe();
    // Answer on the next microtask rather than inside the hub's fan-out; commits landing in the
    // same tick then share the answer.
    if (this.live) queueMicrotask(() => this.answer());
  }

  /** Never happens: a poll buffers at most `limit` events and reports no backlog. */
  overflow(): void {
    this.answer();
  }

  /** Access to the stream was withdrawn: the poll is refused, and so is the next one. */
  revoke(_stream: string, err: AgentwireError): void {
    this.sub = undefined;
    this.fail(err);
  }

  answer(): void {
    const ready = this.ready;
    if (this.done) return;
    this.finish();
    if (!ready) {
      sendError(this.res, new AgentwireError('shutting_down'));
      return;
    }
    const body: PollAnswer = {
      stream: ready.stream,
      epoch: ready.epoch,
      // With no events this is where the client stands, so `after=head` is always the next poll.
      head: this.events.length === 0 ? this.position : Math.max(this.head, this.position),
      recovered: ready.recovered,
      ...(ready.snapshot && { snapshot: ready.snapshot }),
      events: this.events,
    };
    if (!this.res.destroyed) sendJson<PollAnswer>(this.res, 200, body);
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.finish();
    if (!this.res.destroyed) sendError(this.res, err);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.unsubscribe();
    this.onDone();
  }

  private unsubscribe(): void {
    if (this.sub) this.hub.unsubscribe(this.sub);
    this.sub = undefined;
  }
}
