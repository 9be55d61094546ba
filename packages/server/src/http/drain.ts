import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import { AgentwireError } from '@agentwire/protocol';
import { sendError } from './respond.js';

/** Paths that keep answering while the gateway drains: probes say what is going on. */
const PROBES = new Set(['/healthz', '/readyz']);
/**
 * How long no request at all must have arrived before the remaining connections are cut: clients
 * still reusing kept-alive connections get their 503 first, rather than a reset mid-request.
 */
const QUIET_MS = 100;
const CHECK_MS = 20;

/**
 * The HTTP side of a graceful shutdown. Counts the requests in flight; once draining, refuses new
 * ones (on connections kept alive from before) with 503 `shutting_down` and `Connection: close`,
 * which every producer SDK retries, on another node when it has several; and lets the gateway wait
 * for the requests in flight, an ingest batch being committed above all, before it closes the log.
 */
export class HttpDrain {
  private readonly inflight = new Set<ServerResponse>();
  private draining = false;
  private lastRequest = 0;

  get requestsInFlight(): number {
    return this.inflight.size;
  }

  /** First thing for every request: false when it was refused because the gateway is draining. */
  admit(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
    this.lastRequest = Date.now();
    if (this.draining && !PROBES.has(pathname)) {
      res.shouldKeepAlive = false;
      sendError(res, new AgentwireError('shutting_down'));
      req.resume();
      return false;
    }
    this.inflight.add(res);
    res.once('close', () => this.inflight.delete(res));
    return true;
  }

  /**
   * From now on new requests are refused, and `server` stops accepting connections; resolves once
   * its last connection is gone. Kept-alive connections stay open meanwhile, so a request that a
   * client sends on one gets a clean 503 (and `Connection: close`) rather than a reset:
   * `http.Server#close` would drop idle ones under a client about to reuse them, and a reset POST
   * leaves the client unsure whether it was stored.
   */
  begin(server: Server): Promise<void> {
    this.draining = true;
    // Answers still to come close their connection, so the client's next request opens a new one,
    // which is refused cleanly, instead of racing the final close on this one.
    for (const res of this.inflight) if (!res.headersSent) res.shouldKeepAlive = false;
    return new Promise((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  }

  /**
   * Resolves once no request is in flight and none has arrived for a moment, or after
   * `timeoutMs`; true if everything in flight finished.
   */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = Date.now();
      if (this.inflight.size === 0 && now - this.lastRequest >= QUIET_MS) return true;
      if (now >= deadline) return this.inflight.size === 0;
      await new Promise((resolve) => setTimeout(resolve, Math.min(CHECK_MS, deadline - now)));
    }
  }
}
