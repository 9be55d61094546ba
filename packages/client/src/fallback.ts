import { Backoff } from '@agentwire/protocol';
import { checkReady, type FetchLike } from './http-transport.js';
import { PollingTransport } from './polling-transport.js';
import type { WebSocketConstructor } from './socket.js';
import { SseTransport } from './sse-transport.js';
import type { CloseInfo, Transport, TransportKind } from './transport.js';
import { httpBaseUrl, webSocketUrl } from './url.js';
import { WebSocketTransport } from './websocket-transport.js';

/** The client options that choose and switch transports. */
export interface FallbackOptions {
  /**
   * The transports to use, best first. Default `['websocket', 'sse', 'polling']`; leave one out to
   * forbid it, or name one alone to force it (e.g. behind a proxy known to break WebSockets).
   */
  transports?: readonly TransportKind[];
  /** Consecutive failures to open, while the gateway answers plain HTTP, before moving down. Default 3. */
  fallbackAfter?: number;
  /**
   * On a lower transport, the longest pause between attempts to upgrade to a better one. They start
   * at 1 s (or this, if shorter) and back off to it. Default 30 s.
   */
  probeIntervalMs?: number;
  /** The fetch used for SSE, long-polling, commands over HTTP and readiness checks; default global. */
  fetch?: FetchLike;
}

export const ALL_TRANSPORTS: readonly TransportKind[] = ['websocket', 'sse', 'polling'];

const DEFAULT_FALLBACK_AFTER = 3;
const DEFAULT_PROBE_INTERVAL_MS = 30_000;
/** A probe that has not connected by then is abandoned (a blackholed upgrade never fails by itself). */
const PROBE_TIMEOUT_MS = 10_000;
/** The readiness check that decides whether a failure counts against the transport. */
const REACHABLE_TIMEOUT_MS = 5_000;

/** What the selector needs from the client. */
export interface SelectorHost {
  /** The gateway URL as the user gave it; read for every connection (it may name another node). */
  readonly url: string;
  WebSocket: WebSocketConstructor | undefined;
  /** The streams the client follows, for HTTP transports to prove themselves on. */
  streams(): Iterable<string>;
  /** The client's `getToken`, for HTTP transports' first requests. */
  readonly getToken?: (() => string | Promise<string>) | undefined;
  /** A lower transport is now preferred: if waiting to reconnect, connect with it now. */
  demoted(): void;
  /**
   * A better transport connected in the background. The client moves onto it (true), or declines
   * (false) and the selector closes it.
   */
  upgrade(transport: Transport, frames: readonly string[]): boolean;
}

/**
 * Which transport the next connection uses, and when that changes.
 *
 * - Down: an "unavailable" close (the upgrade refused with an HTTP status, something else answering
 *   the HTTP requests) moves to the next transport at once; other failures to open move after
 *   `fallbackAfter` in a row. A failure only counts while the gateway answers `GET /readyz`: when
 *   the gateway (or the network) is down, every transport fails and none is to blame, so the
 *   client stays where it is and is simply offline.
 * - Up: while connected on a lower transport, the better ones are probed in the background, best
 *   first, with backoff up to `probeIntervalMs`; a probe that connects is handed to the client,
 *   which moves its subscriptions onto it.
 */
export class TransportSelector {
  readonly kinds: readonly TransportKind[];
  readonly #host: SelectorHost;
  readonly #fetch: FetchLike | undefined;
  readonly #fallbackAfter: number;
  readonly #probeBackoff: Backoff;
  /** Reachability checks in flight, aborted by close(). */
  readonly #abort = new AbortController();
  /** Index in `kinds` of the transport new connections use. */
  #level = 0;
  /** Consecutive failures to open at `#level` while the gateway was reachable. */
  #failures = 0;
  /** Bumped whenever `#level` or `#failures` start over, so a late reachability answer is dropped. */
  #generation = 0;
  /** Index of the transport the client is connected with, if it is. */
  #inUse: number | undefined;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #probe: Transport | undefined;
  #closed = false;

  constructor(options: FallbackOptions, host: SelectorHost) {
    const wanted = options.transports ?? ALL_TRANSPORTS;
    if (
      !Array.isArray(wanted) ||
      wanted.length === 0 ||
      wanted.some((k, i) => !ALL_TRANSPORTS.includes(k) || wanted.indexOf(k) !== i)
    ) {
      throw new TypeError(`agentwire: transports must list some of ${ALL_TRANSPORTS.join(', ')}, once each`);
    }
    const fallbackAfter = options.fallbackAfter ?? DEFAULT_FALLBACK_AFTER;
    if (!Number.isInteger(fallbackAfter) || fallbackAfter < 1) {
      throw new RangeError('fallbackAfter must be a positive integer');
    }
    const probeMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    if (!(probeMs > 0)) throw new RangeError('probeIntervalMs must be a positive number of milliseconds');
    this.#host = host;
    webSocketUrl(host.url); // a bad URL fails here, not at the first connection
    this.#fetch = options.fetch ?? (globalThis.fetch as FetchLike | undefined)?.bind(globalThis);
    // A transport this environment lacks is the plainest "unavailable": it is never tried.
    this.kinds = wanted.filter((k) =>
      k === 'websocket' ? typeof host.WebSocket === 'function' : typeof this.#fetch === 'function',
    );
    if (this.kinds.length === 0) {
      throw new TypeError(
        wanted.includes('websocket')
          ? 'agentwire: no WebSocket implementation here; pass one as the WebSocket option'
          : 'agentwire: no fetch here for SSE or long-polling; pass one as the fetch option',
      );
    }
    this.#fallbackAfter = fallbackAfter;
    this.#probeBackoff = new Backoff({
      minDelayMs: Math.min(1_000, probeMs),
      maxDelayMs: probeMs,
      factor: 2,
      jitter: 0.5,
    });
  }

  // From the host's current URL every time: with several gateway nodes it changes on reconnection.
  get #wsUrl(): string {
    return webSocketUrl(this.#host.url);
  }

  get #httpUrl(): string {
    return httpBaseUrl(this.#host.url);
  }

  /** The transport the next connection uses. */
  get kind(): TransportKind {
    return this.kinds[this.#level]!;
  }

  create(kind: TransportKind = this.kind): Transport {
    const getToken = this.#host.getToken;
    const http = {
      ...(this.#fetch && { fetch: this.#fetch }),
      ...(getToken && { token: getToken }),
      streams: () => this.#host.streams(),
    };
    switch (kind) {
      case 'websocket':
        return new WebSocketTransport(this.#wsUrl, this.#host.WebSocket!);
      case 'sse':
        return new SseTransport(this.#httpUrl, http);
      case 'polling':
        return new PollingTransport(this.#httpUrl, http);
    }
  }

  /** The client is connected with `kind`: it works, so it is what reconnects use from now on. */
  opened(kind: TransportKind): void {
    const level = this.kinds.indexOf(kind);
    if (level < 0 || this.#closed) return;
    this.#inUse = level;
    this.#level = level;
    this.#failures = 0;
    this.#generation++;
    if (level === 0) {
      this.#stopProbing();
      this.#probeBackoff.reset();
    } else if (this.#probeTimer === undefined && this.#probe === undefined) {
      this.#scheduleProbe(this.#probeBackoff.next());
    }
  }

  /** The client's connection with `kind` ended; `wasOpen` false means it failed to open. */
  closed(kind: TransportKind, info: CloseInfo, wasOpen: boolean): void {
    this.#inUse = undefined;
    this.#stopProbing(); // nothing to upgrade while offline; the reconnect picks the transport
    const level = this.kinds.indexOf(kind);
    if (level !== this.#level || this.#closed) return;
    if (info.unavailable) {
      this.#demote(level);
      return;
    }
    if (wasOpen) return;
    const generation = this.#generation;
    void this.#reachable().then((reachable) => {
      if (!reachable || generation !== this.#generation || this.#closed) return;
      if (++this.#failures >= this.#fallbackAfter) this.#demote(level);
    });
  }

  close(): void {
    this.#closed = true;
    this.#stopProbing();
    this.#abort.abort();
  }

  #demote(level: number): void {
    if (level !== this.#level || level >= this.kinds.length - 1) return;
    this.#level = level + 1;
    this.#failures = 0;
    this.#generation++;
    this.#host.demoted();
  }

  #reachable(): Promise<boolean> {
    if (!this.#fetch) return Promise.resolve(false);
    return checkReady(this.#fetch, this.#httpUrl, this.#abort.signal, REACHABLE_TIMEOUT_MS).then(
      () => true,
      () => false,
    );
  }

  // ---- probing -----------------------------------------------------------------------------------

  #scheduleProbe(delay: number): void {
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      void this.#runProbe();
    }, delay);
  }

  /** Tries each transport better than the one in use, best first; hands the first that connects over. */
  async #runProbe(): Promise<void> {
    const inUse = this.#inUse;
    if (inUse === undefined || this.#closed) return;
    for (let level = 0; level < inUse; level++) {
      const transport = this.create(this.kinds[level]!);
      // Frames that arrive before the hand-over (a WebSocket's hello) are replayed to the client.
      const frames: string[] = [];
      let lost = false;
      transport.onMessage((frame) => frames.push(frame));
      transport.onClose(() => (lost = true));
      this.#probe = transport;
      const connected = await settles(transport.connect(), PROBE_TIMEOUT_MS);
      if (this.#probe !== transport) {
        void transport.close(); // probing stopped meanwhile: the client went offline or closed
        return;
      }
      this.#probe = undefined;
      if (!connected || lost) {
        void transport.close(1000, 'probe failed');
        continue;
      }
      if (this.#host.upgrade(transport, frames)) return; // the client's opened() takes it from here
      void transport.close(1000, 'upgrade declined');
      // Declined while a command awaits its ack: the transport works, so try again soon.
      if (this.#inUse !== undefined) this.#scheduleProbe(this.#probeBackoff.options.minDelayMs);
      return;
    }
    if (this.#inUse === inUse && this.#probeTimer === undefined)
      this.#scheduleProbe(this.#probeBackoff.next());
  }

  #stopProbing(): void {
    if (this.#probeTimer !== undefined) clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    const probe = this.#probe;
    this.#probe = undefined;
    void probe?.close(1000, 'probe cancelled');
  }
}

/** Whether `promise` resolves within `ms`; it is always handled, so a late rejection is silent. */
function settles(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}
