import {
  AgentwireError,
  isErrorCode,
  PROTOCOL_VERSION,
  type ClientOp,
  type CommandAnswer,
  type ErrorAnswer,
  type ErrorCode,
  type ServerOp,
  type Since,
  type TaskListPage,
  type WatchTasksOp,
} from '@agentwire/protocol';
import { TransportClosedError, type CloseInfo, type Transport } from './transport.js';
import { endpointUrl } from './url.js';

export type FetchLike = typeof globalThis.fetch;

export interface HttpTransportOptions {
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** The streams the client follows; `connect()` proves the transport end to end on one of them. */
  streams?: () => Iterable<string>;
  /** How long the readiness check, the proof and each stream's first answer may take. */
  openTimeoutMs?: number;
  /**
   * The client's `getToken`: asked before the transport opens, so even its first requests carry
   * `Authorization: Bearer` (never `?token=` in a URL); later `auth` ops replace it.
   */
  token?: () => string | Promise<string>;
}

/** Everything a per-stream reader (an SSE request, a poll loop) needs from its transport. */
export interface StreamContext {
  readonly stream: string;
  /** The ref of the subscribe op this reader answers; echoed on its `subscribed` and errors. */
  readonly ref: string | undefined;
  readonly since: Since | undefined;
  readonly snapshot: boolean;
  /** Aborted when the stream is unsubscribed or resubscribed, or the transport closes. */
  readonly signal: AbortSignal;
  readonly openTimeoutMs: number;
  /** `/v1/streams/{stream}/{leaf}` with the base's query plus `params`. */
  url(leaf: 'sse' | 'poll', params: Record<string, string>): string;
  fetch(url: string, init: RequestInit): Promise<Response>;
  /** Hands a native frame to the client, unless this reader was replaced or closed meanwhile. */
  emit(op: ServerOp | string): void;
  /**
   * A typed error the gateway answered for this stream: goes to the subscription as an `error`
   * op, or ends the whole transport when it concerns the connection rather than the stream.
   */
  refused(error: AgentwireError): void;
}

const DEFAULT_OPEN_TIMEOUT_MS = 10_000;
/** How long one `GET /v1/tasks` long-poll waits for the task list to change, in seconds. */
const TASK_LIST_WAIT_S = 20;
/** The gateway's own default; HTTP transports have no `hello` to learn the real one from. */
const HELLO_HEARTBEAT_MS = 15_000;
/**
 * Errors that are about the gateway or the credentials, not one stream: on a WebSocket they close
 * the connection, so over HTTP they end the transport and the client decides as it would there.
 */
const connectionLevel = new Set<ErrorCode>([
  'shutting_down',
  'unavailable',
  'unauthorized',
  'token_expired',
  'too_many_connections',
]);

/**
 * The gateway over plain HTTP: per-stream readers (SSE requests or poll loops) for subscriptions,
 * `POST /v1/commands` for commands and `GET /readyz` for pings, presented to the client as one
 * connection speaking native frames. Everything that makes delivery exactly-once (positions,
 * dedupe, gap detection, resets) stays in the client's subscriptions; readers only translate.
 */
export abstract class HttpStreamsTransport implements Transport {
  abstract readonly kind: 'sse' | 'polling';
  readonly #base: string;
  readonly #fetch: FetchLike | undefined;
  readonly #streams: (() => Iterable<string>) | undefined;
  readonly #openTimeoutMs: number;
  readonly #getToken: (() => string | Promise<string>) | undefined;
  /** Aborts every request of this transport at once. */
  readonly #abort = new AbortController();
  readonly #readers = new Map<string, AbortController>();
  #onMessage: ((frame: string) => void) | undefined;
  #onClose: ((info: CloseInfo) => void) | undefined;
  #open = false;
  #closed = false;
  #connecting: Promise<void> | undefined;
  /** A token presented with an `auth` op, sent as a bearer header from then on. */
  #token: string | undefined;
  /** The long-poll loop following the task list (`watch_tasks`), if any. */
  #taskList: AbortController | undefined;

  constructor(base: string, options: HttpTransportOptions = {}) {
    this.#base = base;
    this.#fetch = options.fetch ?? (globalThis.fetch as FetchLike | undefined)?.bind(globalThis);
    this.#streams = options.streams;
    this.#openTimeoutMs = options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    this.#getToken = options.token;
  }

  /** Follows one stream until `ctx.signal` aborts; throws a {@link TransportClosedError} to end the transport. */
  protected abstract read(ctx: StreamContext): Promise<void>;

  /** Shows that this transport's requests reach the gateway's handler for `stream` and flow back. */
  protected abstract prove(ctx: StreamContext): Promise<void>;

  connect(): Promise<void> {
    this.#connecting ??= this.#connect();
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    if (!this.#fetch) {
      throw new TransportClosedError({ code: 1006, reason: 'fetch is not available', unavailable: true });
    }
    try {
      if (this.#getToken) this.#token = await this.#getToken();
      await checkReady(this.#fetch, this.#base, this.#abort.signal, this.#openTimeoutMs, this.#headers());
      const stream = first(this.#streams?.());
      if (stream !== undefined) {
        const probe = new AbortController();
        try {
          await this.prove(this.#context(stream, {}, probe, () => {}));
        } finally {
          probe.abort();
        }
      }
    } catch (err) {
      this.#shutdown();
      throw closedError(err, this.#closed);
    }
    if (this.#closed) throw new TransportClosedError({ code: 1006, reason: 'closed while connecting' });
    this.#open = true;
    // What a WebSocket gateway says first; the client resets its reconnect delays on it.
    this.#deliver({
      op: 'hello',
      version: PROTOCOL_VERSION,
      connection: this.kind,
      heartbeatMs: HELLO_HEARTBEAT_MS,
    });
  }

  send(op: ClientOp): void {
    if (!this.#open || this.#closed) return;
    switch (op.op) {
      case 'subscribe':
        this.#subscribe(op.stream, op.ref, op.since, op.snapshot === true);
        return;
      case 'unsubscribe':
        this.#readers.get(op.stream)?.abort();
        this.#readers.delete(op.stream);
        this.#deliver({
          op: 'unsubscribed',
          stream: op.stream,
          ...(op.ref !== undefined && { ref: op.ref }),
        });
        return;
      case 'command':
        void this.#command(op.ref, op.command);
        return;
      case 'ping':
        void this.#ping(op.ref);
        return;
      case 'watch_tasks':
        void this.#watchTasks(op);
        return;
      case 'unwatch_tasks':
        this.#taskList?.abort();
        this.#taskList = undefined;
        this.#deliver({ op: 'tasks_unwatched', ...(op.ref !== undefined && { ref: op.ref }) });
        return;
      default: {
        // `auth` (a token presented on an open connection) becomes the bearer of later requests.
        const other = op as { op: string; token?: unknown };
        if (other.op === 'auth' && typeof other.token === 'string') this.#token = other.token;
      }
    }
  }

  close(): Promise<void> {
    this.#shutdown();
    return Promise.resolve();
  }

  onMessage(handler: (frame: string) => void): void {
    this.#onMessage = handler;
  }

  onClose(handler: (info: CloseInfo) => void): void {
    this.#onClose = handler;
  }

  // ---- streams -----------------------------------------------------------------------------------

  #subscribe(stream: string, ref: string | undefined, since: Since | undefined, snapshot: boolean): void {
    // The latest subscribe wins, as the client's resubscribe (unsubscribe, then subscribe) expects.
    this.#readers.get(stream)?.abort();
    const reader = new AbortController();
    this.#readers.set(stream, reader);
    const ctx = this.#context(stream, { ref, since, snapshot }, reader, (frame) => {
      if (!reader.signal.aborted) this.#deliver(frame);
    });
    this.read(ctx)
      .catch((err: unknown) => {
        if (reader.signal.aborted) return; // unsubscribed, replaced or closed: nothing to report
        this.#fail(closedError(err, false).info);
      })
      .finally(() => {
        if (this.#readers.get(stream) === reader) this.#readers.delete(stream);
        reader.abort(); // also unhooks it from the transport's signal
      });
  }

  #context(
    stream: string,
    request: { ref?: string | undefined; since?: Since | undefined; snapshot?: boolean },
    reader: AbortController,
    emit: (frame: ServerOp | string) => void,
  ): StreamContext {
    const { ref, since, snapshot = false } = request;
    const fetch = this.#fetch!;
    // One signal per reader that also follows the transport's, without AbortSignal.any (Node 20.3+).
    const onClose = () => reader.abort();
    this.#abort.signal.addEventListener('abort', onClose, { once: true });
    reader.signal.addEventListener('abort', () => this.#abort.signal.removeEventListener('abort', onClose), {
      once: true,
    });
    return {
      stream,
      ref,
      since,
      snapshot,
      signal: reader.signal,
      openTimeoutMs: this.#openTimeoutMs,
      url: (leaf, params) =>
        endpointUrl(this.#base, `/v1/streams/${encodeURIComponent(stream)}/${leaf}`, params),
      fetch: (url, init) => fetch(url, { ...init, headers: { ...this.#headers(), ...init.headers } }),
      emit,
      refused: (error) => {
        if (connectionLevel.has(error.code)) {
          throw new TransportClosedError({ code: error.closeCode, reason: error.message });
        }
        emit({
          op: 'error',
          code: error.code,
          message: error.message,
          stream,
          ...(ref !== undefined && { ref }),
          ...(error.details !== undefined && { details: error.details }),
        });
      },
    };
  }

  // ---- the task list -----------------------------------------------------------------------------

  /**
   * `watch_tasks` over HTTP: long-polls `GET /v1/tasks` with the window's query, each answer's etag
   * going back with the next poll so the gateway answers only when the window changed. Every
   * answer becomes one `tasks` frame holding the whole window.
   */
  async #watchTasks(op: WatchTasksOp): Promise<void> {
    this.#taskList?.abort();
    const watch = new AbortController();
    this.#taskList = watch;
    const onClose = () => watch.abort();
    this.#abort.signal.addEventListener('abort', onClose, { once: true });
    const { query = {}, offset = 0, limit = 100, ref } = op;
    const params: Record<string, string> = { offset: String(offset), limit: String(limit) };
    if (query.status !== undefined) params.status = query.status;
    if (query.project !== undefined) params.project = query.project;
    if (query.search !== undefined) params.q = query.search;
    let etag: string | undefined;
    try {
      while (!watch.signal.aborted) {
        const poll = etag === undefined ? params : { ...params, etag, wait: String(TASK_LIST_WAIT_S) };
        let answer: unknown;
        try {
          const res = await this.#fetch!(endpointUrl(this.#base, '/v1/tasks', poll), {
            headers: this.#headers(),
            signal: watch.signal,
          });
          answer = await readJson(res, 'GET /v1/tasks');
        } catch (err) {
          if (!watch.signal.aborted) this.#fail(closedError(err, false).info);
          return;
        }
        if (watch.signal.aborted) return;
        if (answer instanceof AgentwireError) {
          if (connectionLevel.has(answer.code)) {
            this.#fail({ code: answer.closeCode, reason: answer.message });
            return;
          }
          this.#deliver({ op: 'error', ...answer.toJSON(), ...(ref !== undefined && { ref }) });
          return;
        }
        const page = answer as TaskListPage;
        if (page.etag !== etag) {
          this.#deliver({
            op: 'tasks',
            total: page.total,
            offset: page.offset,
            order: page.tasks.map((t) => t.taskId),
            rows: page.tasks,
            ...(etag === undefined && ref !== undefined && { ref }),
          });
        }
        etag = page.etag;
      }
    } finally {
      this.#abort.signal.removeEventListener('abort', onClose);
      if (this.#taskList === watch) this.#taskList = undefined;
    }
  }

  // ---- commands and pings ------------------------------------------------------------------------

  async #command(ref: string, command: unknown): Promise<void> {
    let reply: ServerOp;
    try {
      const res = await this.#fetch!(endpointUrl(this.#base, '/v1/commands'), {
        method: 'POST',
        headers: { ...this.#headers(), 'content-type': 'application/json' },
        body: JSON.stringify({ ...(command as object), ref }),
        signal: this.#abort.signal,
      });
      const answer = await readJson(res, 'POST /v1/commands');
      reply =
        answer instanceof AgentwireError
          ? { op: 'error', ...answer.toJSON(), ref }
          : { op: 'ack', ref, ...(resultOf(answer) !== undefined && { result: resultOf(answer) }) };
    } catch (err) {
      // As on a WebSocket that drops before the ack: it may or may not have reached the producer.
      const message = err instanceof TransportClosedError ? err.info.reason : 'The command got no answer.';
      reply = { op: 'error', code: 'unavailable', message, ref };
    }
    this.#deliver(reply);
  }

  /** The client's heartbeat: the gateway answering `/readyz` is this connection being alive. */
  async #ping(ref: string | undefined): Promise<void> {
    try {
      await checkReady(this.#fetch!, this.#base, this.#abort.signal, this.#openTimeoutMs, this.#headers());
    } catch (err) {
      if (!this.#closed) this.#fail(closedError(err, false).info);
      return;
    }
    this.#deliver({ op: 'pong', time: Date.now(), ...(ref !== undefined && { ref }) });
  }

  // ---- plumbing ----------------------------------------------------------------------------------

  #headers(): Record<string, string> {
    return this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
  }

  #deliver(frame: ServerOp | string): void {
    if (this.#closed) return;
    this.#onMessage?.(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The connection ended on its own: stop everything and tell the client once. */
  #fail(info: CloseInfo): void {
    if (this.#closed || !this.#open) return;
    const onClose = this.#onClose;
    this.#shutdown();
    onClose?.(info);
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onMessage = undefined;
    this.#onClose = undefined;
    this.#readers.clear();
    this.#abort.abort();
  }
}

// ---- helpers shared by the HTTP transports and the fallback policy ---------------------------------

/**
 * `GET /readyz` within `timeoutMs`: resolves when the gateway answers that it is ready; otherwise
 * throws a {@link TransportClosedError} saying why (unreachable, not ready, something else answered).
 */
export async function checkReady(
  fetch: FetchLike,
  base: string,
  signal: AbortSignal,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<void> {
  const deadline = new Deadline(signal);
  deadline.expireIn(timeoutMs, { code: 1006, reason: 'The gateway did not answer /readyz in time.' });
  try {
    const res = await fetch(endpointUrl(base, '/readyz'), { headers, signal: deadline.signal });
    if (res.ok) {
      await res.body?.cancel().catch(() => {});
      return;
    }
    const answer = await readJson(res, 'GET /readyz');
    if (answer instanceof AgentwireError) {
      throw new TransportClosedError({ code: answer.closeCode, reason: answer.message });
    }
  } catch (err) {
    throw deadline.expired ?? closedError(err, false);
  } finally {
    deadline.dispose();
  }
}

/**
 * The body of a JSON answer: the value for 2xx, the gateway's typed error otherwise. Anything that
 * is not the gateway's JSON (a proxy's page) throws: `unavailable` unless it is a 5xx, which a
 * retry may get past.
 */
export async function readJson(res: Response, what: string): Promise<unknown> {
  const type = res.headers.get('content-type') ?? '';
  let body: unknown;
  if (/^application\/json\b/i.test(type)) {
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
  } else {
    await res.body?.cancel().catch(() => {});
  }
  if (res.ok && body !== undefined) return body;
  const error = (body as Partial<ErrorAnswer> | undefined)?.error;
  if (!res.ok && error && isErrorCode(error.code)) return AgentwireError.from(error);
  throw notTheGateway(res, what);
}

/** Something other than the gateway answered (or it answered in a shape it never uses). */
export function notTheGateway(res: Response, what: string): TransportClosedError {
  const type = res.headers.get('content-type') || 'no content type';
  return new TransportClosedError({
    code: 1006,
    reason: `${what} answered HTTP ${res.status} (${type}), not the gateway's answer`,
    unavailable: res.status < 500,
  });
}

/** An abort signal that follows `parent` and can also be expired by a timer with a reason. */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal;
  readonly #follow = () => this.#controller.abort();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Set when a timer (or {@link expire}) aborted, as opposed to the parent. */
  expired: TransportClosedError | undefined;

  constructor(parent: AbortSignal) {
    this.#parent = parent;
    if (parent.aborted) this.#controller.abort();
    else parent.addEventListener('abort', this.#follow, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  expire(info: CloseInfo): void {
    if (this.#controller.signal.aborted) return;
    this.expired = new TransportClosedError(info);
    this.#controller.abort();
  }

  /** (Re)arms the timer; a later call replaces an earlier one. */
  expireIn(ms: number, info: CloseInfo): void {
    this.clearTimer();
    this.#timer = setTimeout(() => this.expire(info), ms);
  }

  clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  dispose(): void {
    this.clearTimer();
    this.#parent.removeEventListener('abort', this.#follow);
  }
}

/** Any failure as the close it amounts to: a network error is a dropped connection (1006). */
export function closedError(err: unknown, closed: boolean): TransportClosedError {
  if (err instanceof TransportClosedError) return err;
  const reason = closed ? 'closed' : err instanceof Error ? err.message : String(err);
  return new TransportClosedError({ code: 1006, reason });
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function resultOf(answer: unknown): unknown {
  return typeof answer === 'object' && answer !== null ? (answer as CommandAnswer).result : undefined;
}

function first<T>(items: Iterable<T> | undefined): T | undefined {
  if (items) for (const item of items) return item;
  return undefined;
}
