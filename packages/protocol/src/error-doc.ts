import { pathToFileURL } from 'node:url';
import { errorCodes, type ErrorCode } from './errors.js';
import { cell, code, table } from './markdown.js';

/**
 * What a client (or its developer) should do about each code. Typed over the registry, so a code
 * added to errors.ts without advice here fails to compile.
 */
export const errorAdvice: Record<ErrorCode, string> = {
  bad_json: 'Fix the sender: every text frame or body must be one complete JSON value.',
  bad_encoding: 'Fix the sender: send text frames as UTF-8. The connection is closed; reconnect.',
  invalid_message:
    'Fix the message; `details.path` points at the offending field. Frames are objects with an `op`, no extra properties.',
  unknown_op: 'Use one of `subscribe`, `unsubscribe`, `command`, `ping`, `auth`. Do not retry unchanged.',
  invalid_stream:
    'Use `kind:id` (`task:42`, `project:acme`) or `system`; see the naming rule in protocol.md.',
  invalid_since:
    'Send `since` as `{"seq": <integer >= 0>}` with an optional non-empty `epoch` taken from a `subscribed` frame or an envelope.',
  unknown_event_type:
    'Publish only catalog types; use `custom:event` for your own. Check for a typo in `type`.',
  invalid_payload: 'Fix the event data to match its type in the catalog; `details.path` names the field.',
  payload_too_large:
    'Send smaller frames or bodies, or split the batch. Over WebSocket the connection is closed.',
  too_many_events: 'Split the batch; the limit is in the message.',
  not_found: 'Check the path, task id or stream name.',
  method_not_allowed: 'Use the method listed for this path in http-api.md.',
  unsupported_media_type: 'Send `Content-Type: application/json`.',
  already_subscribed:
    'Nothing to do: the existing subscription stays. To move its position, `unsubscribe` then `subscribe`.',
  not_subscribed: 'Nothing to do: there was no subscription to end.',
  too_many_subscriptions: 'Unsubscribe from streams you no longer need, or open another connection.',
  too_many_connections:
    'Close another connection of the same user first, or reconnect later with backoff; share one connection across subscriptions.',
  rate_limited:
    'Slow down and retry after a backoff. The message was dropped; a connection that keeps flooding is closed with this code.',
  slow_consumer:
    'Reconnect and resubscribe with `since` set to the last event you processed; read frames faster or subscribe to fewer streams.',
  unauthorized: 'Send credentials (a token or an API key), or obtain new ones, then retry.',
  token_expired:
    'Get a fresh token and reconnect; on the native WebSocket send it with `auth` before expiry to keep the connection.',
  forbidden: 'Do not retry: the credentials lack access to this stream, action or origin.',
  question_closed: 'Do not retry: refresh the task state; someone else answered or the question timed out.',
  invalid_answer: 'Answer with one of the question `options`, or a value matching its `schema`.',
  no_worker: 'Retry later, or start a worker for this task kind.',
  no_producer: 'Retry later: no producer owns the task (it ended, or its producer is offline).',
  producer_id_taken:
    'Use your own `producerId`, or the credential that said hello with it first; it keeps the id while its producer lives.',
  command_failed: 'The producer refused or failed the command; see the message. Retry only if it is safe.',
  timeout: 'Retry with backoff; the operation may or may not have taken effect.',
  shutting_down: 'Reconnect with backoff (to another node if there is one) and resume with `since`.',
  unavailable: 'Retry with backoff; the gateway is starting or its log is not ready.',
  storage_unavailable:
    'Retry the same request (same event ids) after `Retry-After`; nothing of it was stored, or (cause `NOREPLICAS`) it was stored but not confirmed by enough replicas, and the retry is deduplicated. `GET /readyz` names the failing storage.',
  internal: 'Retry with backoff; if it persists, report it with the time and the request.',
};

/** docs/errors.md: the registry as a table, with what to do about each code. */
export function errorDocument(): string {
  const rows = Object.entries(errorCodes).map(([name, entry]) => [
    code(name),
    String(entry.status),
    String(entry.close),
    cell(entry.message),
    cell(errorAdvice[name as ErrorCode]),
  ]);
  return `# Error codes

<!-- Generated from packages/protocol/src/errors.ts and error-doc.ts; regenerate with \`npm run docs\`. -->

Every refusal in agentwire carries one stable \`code\` from this registry, whatever the transport:

- **HTTP**: the status below and a body \`{"error": {"code", "message", "details"?}}\` (see [http-api.md](http-api.md)).
- **WebSocket**: an \`error\` frame \`{"op": "error", "code", "message", "ref"?, "stream"?, "details"?}\`. Most errors
  leave the connection open; only those listed under [Errors](protocol.md#errors) in protocol.md end it, with the close
  code below.

Branch on \`code\`, never on \`message\`: messages are for people and may change. Codes may be added in a minor
version; treat an unknown code like \`internal\`.

${table(['code', 'HTTP', 'close', 'default message', 'what to do'], rows)}
`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(errorDocument());
}
