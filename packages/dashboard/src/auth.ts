/**
 * The viewer's token, when the gateway has auth on. The CLI prints the dashboard's URL with
 * `?token=`; the page takes it from there once, keeps it for the tab (sessionStorage, so it is gone
 * with the tab) and removes it from the address bar, where it would end up in history and screenshots.
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

/** The gateway URL the client connects to: the page's origin, with the token for the WebSocket handshake. */
export function gatewayUrl(): string {
  return token ? `${location.origin}/?token=${encodeURIComponent(token)}` : location.origin;
}
