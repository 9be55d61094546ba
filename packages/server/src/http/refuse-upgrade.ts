import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentwireError } from '@agentwire/protocol';
import { retryAfterSeconds } from './respond.js';

/** Refuses a WebSocket upgrade with the registry's HTTP status and the typed error as the body. */
export function refuseUpgrade(socket: Duplex, err: unknown): void {
  const e = err instanceof AgentwireError ? err : new AgentwireError('internal');
  const body = JSON.stringify({ error: e.toJSON() });
  if (!socket.writable) return;
  const retryAfter = retryAfterSeconds(e);
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}\r\nConnection: close\r\n` +
      (retryAfter === undefined ? '' : `Retry-After: ${retryAfter}\r\n`) +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
