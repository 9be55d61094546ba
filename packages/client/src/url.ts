/** The path of the native WebSocket endpoint on every gateway. */
export const WS_PATH = '/v1/ws';

/**
 * Turns what a user has at hand — the gateway's base URL (`http://localhost:7070`, `https://host/prefix`)
 * or its WebSocket URL — into the URL of the native endpoint, keeping any query (e.g. a token).
 * Relative URLs resolve against the page in browsers.
 */
export function webSocketUrl(input: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const url = base === undefined ? new URL(input) : new URL(input, base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new TypeError(`agentwire: unsupported URL scheme ${url.protocol} (use http, https, ws or wss)`);
  }
  if (!url.pathname.endsWith(WS_PATH)) url.pathname = url.pathname.replace(/\/+$/, '') + WS_PATH;
  url.hash = '';
  return url.toString();
}

/**
 * The gateway's HTTP base for the SSE, long-polling and command endpoints, from the same input:
 * `ws(s)` becomes `http(s)`, a trailing `/v1/ws` is dropped, and the query (a token) is kept.
 */
export function httpBaseUrl(input: string): string {
  const url = new URL(webSocketUrl(input));
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = url.pathname.slice(0, -WS_PATH.length) || '/';
  return url.toString();
}

/** `path` (absolute, e.g. `/v1/commands`) under an HTTP base, with the base's query plus `params`. */
export function endpointUrl(base: string, path: string, params: Record<string, string> = {}): string {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}
