/**
 * The one registry of error codes. Every refusal anywhere in agentwire (HTTP, WebSocket, SDKs, CLI)
 * carries one of these codes, so a client can branch on a stable string instead of parsing messages.
 * `close` is the WebSocket close code used when the error ends a connection; `status` the HTTP status.
 */
export const errorCodes = {
  bad_json: { status: 400, close: 4400, message: 'The message is not valid JSON.' },
  bad_encoding: { status: 400, close: 1007, message: 'The message is not valid UTF-8 text.' },
  invalid_message: { status: 400, close: 4400, message: 'The message does not match the protocol.' },
  unknown_op: { status: 400, close: 4400, message: 'Unknown operation.' },
  invalid_stream: { status: 400, close: 4400, message: 'Invalid stream name.' },
  invalid_since: { status: 400, close: 4400, message: 'Invalid resume position.' },
  unknown_event_type: { status: 422, close: 4422, message: 'Unknown event type.' },
  invalid_payload: { status: 422, close: 4422, message: 'The event data does not match its type.' },
  payload_too_large: { status: 413, close: 1009, message: 'The message exceeds the size limit.' },
  too_many_events: { status: 413, close: 4413, message: 'Too many events in one batch.' },
  not_found: { status: 404, close: 4404, message: 'Not found.' },
  method_not_allowed: { status: 405, close: 4405, message: 'Method not allowed.' },
  unsupported_media_type: { status: 415, close: 4415, message: 'Content-Type must be application/json.' },
  already_subscribed: { status: 409, close: 4409, message: 'Already subscribed to this stream.' },
  not_subscribed: { status: 409, close: 4409, message: 'Not subscribed to this stream.' },
  too_many_subscriptions: { status: 429, close: 4429, message: 'Subscription limit reached.' },
  // Distinct close codes (4429 is too_many_subscriptions') so a client can tell why it was closed.
  too_many_connections: { status: 429, close: 4430, message: 'Connection limit reached.' },
  rate_limited: { status: 429, close: 4431, message: 'Too many messages; slow down.' },
  slow_consumer: {
    status: 503,
    close: 4008,
    message: 'The client did not keep up; resume from the last seq.',
  },
  unauthorized: { status: 401, close: 4401, message: 'Authentication required.' },
  token_expired: { status: 401, close: 4402, message: 'The token has expired.' },
  forbidden: { status: 403, close: 4403, message: 'Not allowed.' },
  question_closed: { status: 409, close: 4409, message: 'The question is already answered or closed.' },
  invalid_answer: { status: 422, close: 4422, message: 'The answer does not match the question.' },
  no_worker: { status: 503, close: 4503, message: 'No worker is available for this task kind.' },
  no_producer: { status: 503, close: 4503, message: 'No producer owns this task.' },
  producer_id_taken: { status: 409, close: 4411, message: 'The producer id belongs to another credential.' },
  command_failed: { status: 500, close: 4500, message: 'The command failed.' },
  timeout: { status: 504, close: 4504, message: 'Timed out.' },
  shutting_down: { status: 503, close: 1012, message: 'The gateway is restarting; reconnect elsewhere.' },
  unavailable: { status: 503, close: 1013, message: 'The gateway is not ready.' },
  // Retryable: nothing of the refused request was stored, and event ids make a retry safe.
  storage_unavailable: {
    status: 503,
    close: 1013,
    message: 'The log cannot store or read events right now; retry after Retry-After.',
  },
  internal: { status: 500, close: 1011, message: 'Internal error.' },
} as const satisfies Record<string, { status: number; close: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(errorCodes, value);
}

/** The serializable shape of an error on the wire and in HTTP bodies. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class AgentwireError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? errorCodes[code].message);
    this.name = 'AgentwireError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }

  get closeCode(): number {
    return errorCodes[this.code].close;
  }

  toJSON(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static from(body: unknown): AgentwireError {
    if (typeof body === 'object' && body !== null) {
      const { code, message, details } = body as Record<string, unknown>;
      if (isErrorCode(code)) {
        return new AgentwireError(code, typeof message === 'string' ? message : undefined, details);
      }
    }
    return new AgentwireError('internal', 'Malformed error body.');
  }
}

/** Maps a WebSocket close code back to the registry, for clients deciding whether to reconnect. */
export function errorCodeForClose(close: number): ErrorCode | undefined {
  for (const [code, entry] of Object.entries(errorCodes)) {
    if (entry.close === close) return code as ErrorCode;
  }
  return undefined;
}
