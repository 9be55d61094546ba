/**
 * The viewer's token, when the gateway has auth on. The CLI prints the dashboard's URL with
 * `?token=`; the page takes it from there once, keeps it for the tab (sessionStorage, so it is gone
 * with the tab) and removes it from the address bar, where it would end up in history and screenshots.
 * From then on it travels in headers and the WebSocket's `auth` op, never in a URL, where proxies
 * and access logs would keep it.
 */
const KEY = 'agentwire:token';

function take(): string | undefined {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  try {
    if (fromUrl) {
      sessionStorage.setItem(KEY, fromUrl);
      url.searchParams.delete('token');
      history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
      return fromUrl;
    }
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    // Storage disabled: the token still works for this page load.
    return fromUrl ?? undefined;
  }
}

export const token: string | undefined = take();

/** Headers for the HTTP API: the bearer token when there is one. */
export function authHeaders(): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * The token for the client SDK's `getToken`: sent as the WebSocket's first frame, and as
 * `Authorization: Bearer` on SSE, long-polling and commands.
 */
export function getToken(): (() => string) | undefined {
  const current = token;
  return current === undefined ? undefined : () => current;
}
