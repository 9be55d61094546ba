import type { ServerResponse } from 'node:http';
import { AgentwireError } from '@agentwire/protocol';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Every HTTP refusal: `{"error": {code, message, details?}}` with the registry's status. */
export function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof AgentwireError ? err : new AgentwireError('internal');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, e.status, { error: e.toJSON() });
}
