import type { IncomingMessage } from 'node:http';

/**
 * The credential of an HTTP request or upgrade: `Authorization: Bearer`, then `X-Api-Key`, then
 * (when allowed) `?token=`, which browsers need for WebSockets and EventSource but which ends up in
 * access logs and browser history, so headers win when both are present.
 */
export function requestCredential(req: IncomingMessage, url: URL, allowQuery: boolean): string | undefined {
  const header = req.headers.authorization;
  const bearer = header === undefined ? undefined : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1];
  if (bearer !== undefined) return bearer;
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  if (!allowQuery) return undefined;
  return url.searchParams.get('token') || undefined;
}
