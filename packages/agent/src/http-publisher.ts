import { AgentwireError, isErrorCode, type AnyEventInput, type ErrorCode } from '@agentwire/protocol';
import type { PublishResult, Publisher } from './publisher.js';

export interface HttpPublisherOptions {
  /**
   * The gateway's base URL, e.g. `http://localhost:7070`, or the base URLs of several nodes of one
   * cluster: requests go to one node and move to the next when it cannot be reached or is shutting
   * down, so a producer rides through a node's restart without waiting for backoff.
   */
  url: string | readonly string[];
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
  /** Per request; a timed-out request is retried like any transient failure. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

/**
 * A refusal the gateway answered over HTTP. `status` is the status actually received (a proxy may
 * answer 502 for a gateway that would have said 503), and `retryAfterMs` the server's wait hint.
 */
export class HttpStatusError extends AgentwireError {
  readonly httpStatus: number;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, details: unknown, httpStatus: number, retryAfterMs?: number) {
    super(code, message, details);
    this.httpStatus = httpStatus;
    this.retryAfterMs = retryAfterMs;
  }

  override get status(): number {
    return this.httpStatus;
  }
}

/**
 * `POST /v1/streams/{stream}/events`, one request per call; retrying is the caller's job. With
 * several nodes, a call that meets a node down or draining tries the next one at once (at most
 * each node once), and later calls stay on the node that answered. Safe because appends are
 * idempotent by event id, and the outbox keeps one batch per stream in flight, so order holds.
 */
export function createHttpPublisher(options: HttpPublisherOptions): Publisher {
  const bases = nodeList(options.url).map((u) => u.replace(/\/+$/, ''));
  let current = 0;
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const headers: Record<string, string> = {
    ...options.headers,
    'content-type': 'application/json',
    accept: 'application/json',
  };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;

  const publishTo = async (base: string, stream: string, events: AnyEventInput[]): Promise<PublishResult> => {
    const url = `${base}/v1/streams/${encodeURIComponent(stream)}/events`;
    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw unreachable(base, err, timeoutMs);
    }
    if (!res.ok) throw refusal(res, text);
    return parsePublishResult(text, stream);
  };

  return {
    async publish(stream: string, events: AnyEventInput[]): Promise<PublishResult> {
      let failure: unknown;
      for (let tried = 0; tried < bases.length; tried++) {
        const index = current;
        try {
          return await publishTo(bases[index]!, stream, events);
        } catch (err) {
          failure = err;
          if (!movesOn(err)) throw err;
          // Calls for other streams may have moved on already; only move away from the failed node.
          if (current === index) current = (index + 1) % bases.length;
        }
      }
      throw failure;
    },
  };
}

/** `url` as a non-empty list of node URLs. */
export function nodeList(url: string | readonly string[]): string[] {
  const list = typeof url === 'string' ? [url] : [...url];
  if (list.length === 0 || !list.every((u) => typeof u === 'string' && u !== '')) {
    throw new TypeError('url must be a gateway URL or a non-empty list of them.');
  }
  return list;
}

/** Failures that say "not this node, not now": unreachable, timed out, draining or down. */
function movesOn(err: unknown): boolean {
  if (!(err instanceof AgentwireError)) return false;
  if (err.code === 'unavailable' || err.code === 'timeout' || err.code === 'shutting_down') return true;
  return err.status === 502 || err.status === 503 || err.status === 504;
}

function unreachable(base: string, err: unknown, timeoutMs: number): AgentwireError {
  if (err instanceof Error && err.name === 'TimeoutError') {
    return new AgentwireError('timeout', `The gateway at ${base} did not answer within ${timeoutMs} ms.`);
  }
  const reason = describe(err);
  return new AgentwireError('unavailable', `Could not reach the gateway at ${base}: ${reason}`, { reason });
}

// fetch reports every network failure as "fetch failed"; the useful part is in `cause`.
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${err.message} (${typeof code === 'string' ? `${code}: ` : ''}${cause.message})`;
  }
  return err.message;
}

function refusal(res: Response, text: string): HttpStatusError {
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  const body = tryJson(text);
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error === 'object' && error !== null && isErrorCode((error as { code?: unknown }).code)) {
    const typed = AgentwireError.from(error);
    return new HttpStatusError(typed.code, typed.message, typed.details, res.status, retryAfterMs);
  }
  // No error body of ours: most likely a proxy or load balancer answered.
  const snippet = text.slice(0, 200).trim();
  const message = `The gateway answered HTTP ${res.status}${snippet ? `: ${snippet}` : '.'}`;
  return new HttpStatusError(codeForStatus(res.status), message, undefined, res.status, retryAfterMs);
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 502:
    case 503:
      return 'unavailable';
    case 504:
      return 'timeout';
    default:
      return status >= 500 ? 'internal' : 'invalid_message';
  }
}

/** Retry-After is either delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parsePublishResult(text: string, stream: string): PublishResult {
  const body = tryJson(text) as Partial<PublishResult> | undefined;
  const results = body?.results;
  const wellFormed =
    Array.isArray(results) &&
    results.every(
      (r) => typeof r === 'object' && r !== null && typeof r.id === 'string' && typeof r.seq === 'number',
    );
  if (!body || !wellFormed) {
    throw new AgentwireError('internal', 'The gateway acknowledged the batch with a malformed body.', {
      body: text.slice(0, 200),
    });
  }
  return {
    stream: typeof body.stream === 'string' ? body.stream : stream,
    epoch: typeof body.epoch === 'string' ? body.epoch : '',
    results: results.map((r) => ({ id: r.id, seq: r.seq, duplicate: r.duplicate === true })),
  };
}
