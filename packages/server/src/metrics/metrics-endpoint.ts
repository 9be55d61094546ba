import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentwireError } from '@agentwire/protocol';
import type { Security } from '../auth/security.js';
import { sendError } from '../http/respond.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { Edge } from '../edge/edge.js';

export const METRICS_PATH = '/metrics';

/**
 * `GET /metrics` in Prometheus text format: on the gateway's own port for an admin credential, and
 * optionally on a port of its own (`metrics.port`), where the bind address is the protection — a
 * scraper on a private interface needs no token.
 */
export class MetricsEndpoint implements Edge {
  private server: Server | undefined;

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly security: Security,
  ) {}

  /** The gateway port's route: true when the request was this endpoint's. */
  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (url.pathname !== METRICS_PATH) return false;
    this.security
      .principalOf(req, url)
      .then((who) => {
        this.security.access.assertAdmin(who, 'the metrics');
        return this.answer(req, res);
      })
      .catch((err: unknown) => sendError(res, err));
    return true;
  }

  /** Serves the metrics alone on `host:port`; resolves with the port bound. */
  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== METRICS_PATH) {
        sendError(res, new AgentwireError('not_found', `Only ${METRICS_PATH} is served here.`));
        return;
      }
      this.answer(req, res).catch((err: unknown) => sendError(res, err));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new AgentwireError('method_not_allowed', 'Metrics are read with GET.');
    }
    const text = await this.metrics.scrape();
    res.writeHead(200, {
      'Content-Type': this.metrics.contentType,
      'Cache-Control': 'no-store',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
