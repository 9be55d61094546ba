import type { ServerResponse } from 'node:http';
import { AgentwireError, type ErrorAnswer } from '@agentwire/protocol';

/**
 * A JSON answer. Give `T`, the answer's type from @agentwire/protocol (`sendJson<StreamHead>(…)`),
 * so what is sent is checked against the contract when it is built.
 */
export function sendJson<T>(res: ServerResponse, status: number, body: T): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/**
 * Every HTTP refusal: `{"error": {code, message, details?}}` with the registry's status, and a
 * `Retry-After` when retrying later is the answer.
 */
export function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof AgentwireError ? err : new AgentwireError('internal');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const retryAfter = retryAfterSeconds(e);
  if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
  sendJson<ErrorAnswer>(res, e.status, { error: e.toJSON() });
}

/**
 * Whole seconds to wait before retrying, for `Retry-After`: the error's own hint
 * (`details.retryAfterMs`, e.g. the ingest rate's refill time), else one second for every 429 and
 * for a refusal of a node that is restarting. Undefined when a retry would not help.
 */
export function retryAfterSeconds(e: AgentwireError): number | undefined {
  const hinted = (e.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof hinted === 'number' && Number.isFinite(hinted) && hinted >= 0)
    return Math.max(1, Math.ceil(hinted / 1000));
  if (e.status === 429 || e.code === 'shutting_down') return 1;
  return undefined;
}
