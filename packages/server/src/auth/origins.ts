import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HostPolicy } from './hosts.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Which web pages may talk to the gateway: checked on every WebSocket and Socket.IO upgrade and
 * every HTTP request that carries an `Origin`, and answered in CORS headers. Requests without an
 * `Origin` (servers, CLIs, SDKs in Node) are not browsers acting for a page and pass; tokens, not
 * origins, are what authenticate them.
 *
 * Default: the gateway's own origin (the page it serves) and any localhost origin. `*` allows any.
 * "Own origin" is an `Origin` naming the very host the request was addressed to, and only for a
 * host the gateway serves ({@link HostPolicy}): under DNS rebinding a foreign page's `Origin`
 * equals its `Host` too.
 */
export class OriginPolicy {
  private readonly any: boolean;
  private readonly allowed: Set<string> | undefined;
  private readonly own: Set<string>;

  /** `ownOrigins`: where the gateway's own pages live besides the request's host (its public URL). */
  constructor(
    allowedOrigins: readonly string[] | undefined,
    readonly hosts: HostPolicy,
    ownOrigins: readonly string[] = [],
  ) {
    this.own = new Set(ownOrigins.map((o) => normalize(o)).filter((o) => o !== undefined));
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
    if (this.allowed?.has(normalized) || this.own.has(normalized)) return true;
    const url = new URL(normalized);
    // The gateway's own pages: same host and port as the request was addressed to, a served host.
    const host = req.headers.host;
    if (host !== undefined && url.host === host.toLowerCase() && this.hosts.allows(host)) return true;
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
