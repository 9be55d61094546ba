import { authHeaders } from './auth.js';
import { httpHistory } from './lib/history.js';
import type { GatewayStats } from './lib/stats-series.js';

/**
 * The gateway's HTTP API, on the page's own origin: the gateway serves the dashboard, and in
 * development Vite forwards `/v1` to it.
 */
async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    signal: signal ?? null,
    headers: { accept: 'application/json', ...authHeaders() },
  });
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    if (res.status === 401) {
      // The gateway has auth on: only a link with a token (as `agentwire serve` prints it) gets in.
      throw new Error(
        'this gateway needs a token: open the dashboard link the gateway printed (it ends in ?token=…)',
      );
    }
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) message = body.error.message;
    } catch {
      // Not JSON (a proxy's error page): the status says enough.
    }
    throw new Error(message);
  }
  return (await res.json()) as T;
}

export function fetchStats(signal?: AbortSignal): Promise<GatewayStats> {
  return getJson<GatewayStats>('/v1/stats', signal);
}

export const fetchHistory = httpHistory('', authHeaders);
