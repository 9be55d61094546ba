import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentwireError } from '@agentwire/protocol';
import type { Security } from '../auth/security.js';
import type { HttpDrain } from '../http/drain.js';
import { refuseUpgrade } from '../http/refuse-upgrade.js';
import { sendError } from '../http/respond.js';
import type { Logger } from '../logger.js';
import type { Edge } from './edge.js';

export interface EdgeRouterOptions {
  /** Offered every request and upgrade in this order; the first to take one answers it. */
  edges: readonly Edge[];
  security: Security;
  drain: HttpDrain;
  logger: Logger;
}

/**
 * The gateway's node:http server and its dispatch. Every request and upgrade passes the same
 * checks first (draining, the Host header, the page's origin, CORS preflight), then goes to the
 * first edge that takes it; what no edge takes is `not_found`, as the registry says.
 */
export class EdgeRouter {
  readonly server: Server;

  constructor(private readonly options: EdgeRouterOptions) {
    this.server = createServer((req, res) => this.request(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    this.server.on('clientError', (_err, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    // Long-lived connections are normal here; only guard against slow header attacks.
    this.server.headersTimeout = 20_000;
    this.server.requestTimeout = 60_000;
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const { security, drain, logger } = this.options;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, new AgentwireError('not_found', 'Malformed URL.'));
      return;
    }
    if (!drain.admit(req, res, url.pathname)) return;
    if (!security.origins.hosts.allows(req.headers.host)) {
      sendError(res, foreignHost(req));
      return;
    }
    // Pages from origins not allowed get nothing; allowed ones get CORS headers (docs/security.md).
    if (!security.origins.allows(req)) {
      sendError(res, new AgentwireError('forbidden', 'This origin is not allowed.'));
      return;
    }
    if (security.origins.cors(req, res)) return;
    this.offer(req, res, url, 0).catch((err: unknown) => {
      logger.error({ err }, 'request failed');
      sendError(res, err);
    });
  }

  /** Offers the request to the edges from `from` on; synchronous as long as the edges are. */
  private async offer(req: IncomingMessage, res: ServerResponse, url: URL, from: number): Promise<void> {
    const { edges } = this.options;
    for (let i = from; i < edges.length; i++) {
      const taken = edges[i]!.handleRequest?.(req, res, url);
      if (taken === true) return;
      if (taken instanceof Promise) {
        if (await taken) return;
        return this.offer(req, res, url, i + 1);
      }
    }
    sendError(res, new AgentwireError('not_found', `Nothing at ${url.pathname.slice(0, 200)}.`));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { security, edges } = this.options;
    socket.on('error', destroySocket);
    if (!security.origins.hosts.allows(req.headers.host)) {
      refuseUpgrade(socket, foreignHost(req));
      return;
    }
    // Cross-site WebSocket hijacking: a page from another origin cannot open any of our sockets.
    if (!security.origins.allows(req)) {
      refuseUpgrade(socket, new AgentwireError('forbidden', 'This origin is not allowed.'));
      return;
    }
    const url = upgradeUrl(req.url);
    if (url) for (const edge of edges) if (edge.handleUpgrade?.(req, socket, head, url)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  }
}

/**
 * An upgrade's URL with its path as sent: a path starting `//` stays a path here rather than
 * becoming a host, so upgrades are routed by exactly the path the client asked for.
 */
function upgradeUrl(raw: string | undefined): URL | undefined {
  try {
    return new URL(`http://localhost${raw?.startsWith('/') ? raw : `/${raw ?? ''}`}`);
  } catch {
    return undefined;
  }
}

/** A request addressed to a name the gateway does not serve: a DNS rebinding, or a missing setting. */
function foreignHost(req: IncomingMessage): AgentwireError {
  const host = String(req.headers.host).slice(0, 100);
  return new AgentwireError(
    'forbidden',
    `This gateway does not serve the host ${JSON.stringify(host)}; add it with --allowed-host or --public-url.`,
    { host },
  );
}

// A plain function, not a closure: one made inside the upgrade handler would keep the handler's
// whole scope (the request, its headers, the head buffer) alive for as long as the socket is open,
// about a kilobyte per connection.
function destroySocket(this: Duplex): void {
  this.destroy();
}
