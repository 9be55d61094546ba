import { intervalQuantile, total, type Scrape } from './prometheus-text.js';

/**
 * One chart point from two successive scrapes of `GET /metrics`: the same series Prometheus
 * collects, so the dashboard and an operator's Grafana never disagree. Rates are a counter's growth
 * between the scrapes (a restarted gateway's counters start over, so a drop reads as "unknown");
 * latency quantiles come from the histogram's growth over the same interval.
 */
export interface StatsSample {
  at: number;
  connections: number;
  subscriptions: number;
  streams: number;
  eventsInPerSec: number | undefined;
  eventsOutPerSec: number | undefined;
  /** Publish → deliver, in ms. */
  latencyP50: number | undefined;
  latencyP99: number | undefined;
  logBytes: number | undefined;
  memory: number | undefined;
  refusalsPerSec: number | undefined;
  evictionsPerSec: number | undefined;
}

export interface Reading {
  at: number;
  scrape: Scrape;
}

export function toSample(prev: Reading | undefined, at: number, scrape: Scrape): StatsSample {
  const rate = (name: string): number | undefined => {
    const now = total(scrape, name);
    const before = prev ? total(prev.scrape, name) : undefined;
    if (!prev || before === undefined || at <= prev.at) return undefined;
    if (now === undefined) return before === 0 ? 0 : undefined;
    if (now < before) return undefined;
    return ((now - before) * 1_000) / (at - prev.at);
  };
  const ms = (q: number) => {
    const s = prev
      ? intervalQuantile(prev.scrape, scrape, 'agentwire_publish_to_deliver_seconds', q)
      : undefined;
    return s === undefined ? undefined : s * 1_000;
  };
  return {
    at,
    connections: total(scrape, 'agentwire_connections') ?? 0,
    subscriptions: total(scrape, 'agentwire_subscriptions') ?? 0,
    streams: total(scrape, 'agentwire_streams_watched') ?? 0,
    eventsInPerSec: rate('agentwire_events_ingested_total'),
    eventsOutPerSec: rate('agentwire_events_delivered_total'),
    latencyP50: ms(0.5),
    latencyP99: ms(0.99),
    logBytes: total(scrape, 'agentwire_log_size_bytes'),
    memory: total(scrape, 'agentwire_process_resident_memory_bytes'),
    refusalsPerSec: rate('agentwire_limit_refusals_total'),
    evictionsPerSec: rate('agentwire_slow_consumer_evictions_total'),
  };
}
