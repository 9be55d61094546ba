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
