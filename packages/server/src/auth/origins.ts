import type { IncomingMessage, ServerResponse } from 'node:http';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Which web pages may talk to the gateway: checked on every WebSocket and Socket.IO upgrade and
 * every HTTP request that carries an `Origin`, and answered in CORS headers. Requests without an
 * `Origin` (servers, CLIs, SDKs in Node) are not browsers acting for a page and pass; tokens, not
 * origins, are what authenticate them.
 *
 * Default: the gateway's own origin (the page it serves) and any localhost origin. `*` allows any.
 */
export class OriginPolicy {
  private readonly any: boolean;
  private readonly allowed: Set<string> | undefined;

  constructor(allowedOrigins: readonly string[] | undefined) {
    this.any = allowedOrigins?.includes('*') ?? false;
    this.allowed =
      allowedOrigins === undefined ? undefined : new Set(allowedOrigins.map((o) => normalize(o) ?? o));
  }

  allows(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (this.any) return true;
    const normalized = normalize(origin);
    if (normalized === undefined) return false;
    if (this.allowed?.has(normalized)) return true;
    const url = new URL(normalized);
    // The gateway's own pages: same host and port as the request was addressed to.
    if (req.headers.host !== undefined && url.host === req.headers.host.toLowerCase()) return true;
    return this.allowed === undefined && LOOPBACK.has(url.hostname);
  }

  /**
   * CORS for an allowed origin: echoes it (never `*`, so a page is named, not everyone) and
   * answers a preflight. Returns true when the request was a preflight and has been answered.
   */
  cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-expose-headers', 'retry-after');
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return false;
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type, last-event-id, x-api-key',
      'access-control-max-age': '600',
      'content-length': '0',
    });
    res.end();
    return true;
  }
}

/** `scheme://host[:port]` in lower case, or undefined for `null` and anything unparsable. */
function normalize(origin: string): string | undefined {
  if (origin === 'null' || origin.length > 2048) return undefined;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin.toLowerCase();
  } catch {
    return undefined;
  }
}
