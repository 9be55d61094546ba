import type { AnyEnvelope, HistoryPage } from '@agentwire/protocol';

export type FetchHistory = (stream: string, after: number, limit: number) => Promise<HistoryPage>;

/** The history API's page size ceiling (`limits.maxReadLimit`). */
export const HISTORY_PAGE = 1_000;

/** Reads the events with `after < seq <= through`, page by page, from `base` (the gateway's URL). */
export async function readRange(
  fetchPage: FetchHistory,
  stream: string,
  after: number,
  through: number,
): Promise<{ epoch: string | undefined; first: number; events: AnyEnvelope[] }> {
  const events: AnyEnvelope[] = [];
  let epoch: string | undefined;
  let first = 1;
  let cursor = after;
  while (cursor < through) {
    const page = await fetchPage(stream, cursor, Math.min(HISTORY_PAGE, through - cursor));
    if (epoch !== undefined && page.epoch !== epoch)
      throw new Error('the stream was reset while reading its history');
    epoch = page.epoch;
    first = page.first;
    for (const e of page.events) if (e.seq > cursor && e.seq <= through) events.push(e);
    const last = page.events[page.events.length - 1];
    if (!last || last.seq <= cursor) break; // nothing more retained in the range
    cursor = last.seq;
  }
  return { epoch, first, events };
}

/**
 * The history API over `fetch`; `base` is the gateway's URL, empty for the page's own origin, and
 * `headers` adds credentials when the gateway has auth on.
 */
export function httpHistory(base = '', headers: () => Record<string, string> = () => ({})): FetchHistory {
  return async (stream, after, limit) => {
    const res = await fetch(
      `${base}/v1/streams/${encodeURIComponent(stream)}/events?after=${after}&limit=${limit}`,
      { headers: headers() },
    );
    if (!res.ok) throw new Error(`history of ${stream}: HTTP ${res.status}`);
    return (await res.json()) as HistoryPage;
  };
}
