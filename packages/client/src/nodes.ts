import { webSocketUrl } from './url.js';

/**
 * Where the client connects: one gateway URL (a load balancer in front spreads clients over the
 * nodes), the URLs of several nodes of one cluster, or a function asked before every connection
 * (service discovery, a URL carrying a fresh token).
 */
export type GatewayUrl = string | readonly string[] | (() => string);

/**
 * The node each connection goes to. A list is walked in order, round and round: the first
 * connection goes to the first node, and every later one (after a drop, a failed attempt, a node
 * shutting down) to the next, so a client leaves a node that is restarting or gone within one
 * reconnect instead of waiting for it to come back. Subscriptions resume from their position on
 * whichever node they land: positions mean the same on every node of a cluster.
 */
export class NodeList {
  readonly #url: GatewayUrl;
  #index = 0;
  #connections = 0;
  /** What the function returned for the current connection. */
  #asked: string | undefined;

  constructor(url: GatewayUrl) {
    if (typeof url !== 'function') {
      const list = typeof url === 'string' ? [url] : url;
      if (!Array.isArray(list) || list.length === 0) {
        throw new TypeError('agentwire: url must be a gateway URL, a non-empty list of them, or a function');
      }
      // Each is checked now, so a typo fails at createClient() rather than at some reconnect.
      for (const u of list) webSocketUrl(u);
    }
    this.#url = url;
  }

  /** The URL the current (or last) connection went to, as given. */
  current(): string {
    const url = this.#url;
    if (typeof url === 'function') return (this.#asked ??= url());
    return typeof url === 'string' ? url : url[this.#index % url.length]!;
  }

  /** The URL for a new connection: the first node the first time, the next node after that. */
  next(): string {
    const url = this.#url;
    if (typeof url === 'function') this.#asked = url();
    else if (this.#connections > 0 && typeof url !== 'string') this.#index = (this.#index + 1) % url.length;
    this.#connections++;
    return this.current();
  }
}
