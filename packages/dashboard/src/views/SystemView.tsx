import { useEffect, useState, type ReactNode } from 'react';
import { fetchMetrics } from '../api.js';
import { LineChart } from '../components/LineChart.js';
import { formatBytes, formatCount, formatDuration } from '../lib/format.js';
import { byLabel, total, type Scrape } from '../lib/prometheus-text.js';
import { toSample, type Reading, type StatsSample } from '../lib/stats-series.js';

const POLL_MS = 1_000;
/** Two minutes of samples at one per second. */
const WINDOW = 120;

/** Scrapes `/metrics` once a second and keeps the last two minutes as chart series. */
function useMetricsHistory(): {
  samples: StatsSample[];
  latest: Scrape | undefined;
  error: string | undefined;
} {
  const [samples, setSamples] = useState<StatsSample[]>([]);
  const [latest, setLatest] = useState<Scrape | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    let prev: Reading | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const poll = async () => {
      try {
        const scrape = await fetchMetrics(controller.signal);
        if (stopped) return;
        const at = Date.now();
        const sample = toSample(prev, at, scrape);
        prev = { at, scrape };
        setLatest(scrape);
        setError(undefined);
        setSamples((s) =>
          s.length >= WINDOW ? [...s.slice(s.length - WINDOW + 1), sample] : [...s, sample],
        );
      } catch (err) {
        if (stopped) return;
        setError(String((err as Error).message ?? err));
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, []);
  return { samples, latest, error };
}

/** The figures of the last scrape that are states, not rates: what is open, connected, up. */
function Health({ scrape }: { scrape: Scrape }): ReactNode {
  const count = (name: string) => formatCount(total(scrape, name) ?? 0);
  const rows: [string, string][] = [
    ['questions open', count('agentwire_questions_open')],
    ['producers connected', count('agentwire_producers_connected')],
    ['workers connected', count('agentwire_workers_connected')],
    ['commands waiting for a producer', count('agentwire_commands_queued')],
    ['slow consumers dropped', count('agentwire_slow_consumer_evictions_total')],
    ...Object.entries(byLabel(scrape, 'agentwire_limit_refusals_total', 'code')).map(
      ([code, n]): [string, string] => [`refused: ${code}`, formatCount(n)],
    ),
    ...Object.entries(byLabel(scrape, 'agentwire_dependency_up', 'dependency')).map(
      ([name, up]): [string, string] => [name, up === 1 ? 'up' : 'down'],
    ),
    ...Object.entries(byLabel(scrape, 'agentwire_connections', 'transport')).map(
      ([transport, n]): [string, string] => [`${transport} connections`, formatCount(n)],
    ),
  ];
  return (
    <section className="panel" aria-labelledby="health-title">
      <h2 id="health-title">Now</h2>
      <dl className="kv">
        {rows.map(([k, v]) => (
          <div key={k} data-metric={k}>
            <dt>{k}</dt>
            <dd className="mono">{v}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

const col = <K extends keyof StatsSample>(samples: StatsSample[], key: K) =>
  samples.map((s) => s[key] as number | undefined);

export function SystemView(): ReactNode {
  const { samples, latest, error } = useMetricsHistory();
  const hasLatency = samples.some((s) => s.latencyP50 !== undefined);
  const hasLog = samples.some((s) => s.logBytes !== undefined);
  // Latencies come from histogram buckets; under a millisecond reads as such.
  const ms = (v: number) => (v < 1 ? '<1 ms' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);
  const perSec = (v: number) => `${formatCount(v)}/s`;
  const startedAt = latest && total(latest, 'agentwire_process_start_time_seconds');

  return (
    <section className="page" aria-labelledby="system-title">
      <div className="page-head">
        <h1 id="system-title">System</h1>
        {latest && (
          <p className="muted">
            {latest.get('agentwire_log_info')?.[0]?.labels.engine ?? 'unknown'} log
            {startedAt !== undefined && ` · up ${formatDuration(Date.now() - startedAt * 1_000)}`} ·{' '}
            {formatCount(total(latest, 'agentwire_events_ingested_total') ?? 0)} events in ·{' '}
            {formatCount(total(latest, 'agentwire_events_delivered_total') ?? 0)} out
          </p>
        )}
      </div>
      {error && (
        <p className="notice notice-bad" role="alert">
          Could not read /metrics: {error}. Retrying…
        </p>
      )}
      <div className="chart-grid">
        <LineChart
          capacity={WINDOW}
          title="Connections"
          format={formatCount}
          series={[
            { label: 'clients', color: 'var(--c1)', values: col(samples, 'connections') },
            { label: 'subscriptions', color: 'var(--c2)', values: col(samples, 'subscriptions') },
            { label: 'streams', color: 'var(--c3)', values: col(samples, 'streams') },
          ]}
        />
        <LineChart
          capacity={WINDOW}
          title="Events per second"
          format={perSec}
          series={[
            { label: 'in', color: 'var(--c1)', values: col(samples, 'eventsInPerSec') },
            { label: 'out', color: 'var(--c2)', values: col(samples, 'eventsOutPerSec') },
          ]}
        />
        <LineChart
          capacity={WINDOW}
          title={
            hasLatency
              ? 'Publish → deliver latency'
              : 'Publish → deliver latency (not reported by this gateway)'
          }
          format={ms}
          series={[
            { label: 'p50', color: 'var(--c1)', values: col(samples, 'latencyP50') },
            { label: 'p99', color: 'var(--c4)', values: col(samples, 'latencyP99') },
          ]}
        />
        <LineChart
          capacity={WINDOW}
          title={hasLog ? 'Log size and memory' : 'Memory (log size not reported by this engine)'}
          format={formatBytes}
          series={[
            ...(hasLog
              ? [{ label: 'log on disk', color: 'var(--c3)', values: col(samples, 'logBytes') }]
              : []),
            { label: 'gateway RSS', color: 'var(--c2)', values: col(samples, 'memory') },
          ]}
        />
        <LineChart
          capacity={WINDOW}
          title="Refused and dropped per second"
          format={perSec}
          series={[
            { label: 'limit refusals', color: 'var(--c4)', values: col(samples, 'refusalsPerSec') },
            { label: 'slow consumers', color: 'var(--c3)', values: col(samples, 'evictionsPerSec') },
          ]}
        />
      </div>
      {latest && <Health scrape={latest} />}
    </section>
  );
}
