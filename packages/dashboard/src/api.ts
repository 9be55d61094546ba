import type { StatsAnswer } from '@agentwire/protocol';
import { authHeaders } from './auth.js';
import { httpHistory } from './lib/history.js';
import { parsePrometheusText, type Scrape } from './lib/prometheus-text.js';

/**
 * The gateway's HTTP API, on the page's own origin: the gateway serves the dashboard, and in
 * development Vite forwards `/v1` to it.
 */
async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await get(path, 'application/json', signal)).json() as Promise<T>;
}

async function get(path: string, accept: string, signal?: AbortSignal): Promise<Response> {
  const res = await fetch(path, {
    signal: signal ?? null,
    headers: { accept, ...authHeaders() },
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
  return res;
}

/** The part of `GET /v1/stats` the dashboard reads: subscribers per stream, where reported. */
export type GatewayStats = Pick<StatsAnswer, 'watchers'>;

export function fetchStats(signal?: AbortSignal): Promise<GatewayStats> {
  return getJson<GatewayStats>('/v1/stats', signal);
}

/** The gateway's Prometheus metrics, parsed: the figures of the system view. */
export async function fetchMetrics(signal?: AbortSignal): Promise<Scrape> {
  const res = await get('/metrics', 'text/plain', signal);
  return parsePrometheusText(await res.text());
}

export const fetchHistory = httpHistory('', authHeaders);
