import { useEffect, useState, type ReactNode } from 'react';
import { fetchStats } from '../api.js';
import { LineChart } from '../components/LineChart.js';
import { formatBytes, formatCount, formatDuration } from '../lib/format.js';
import { toSample, type GatewayStats, type StatsSample } from '../lib/stats-series.js';

const POLL_MS = 1_000;
/** Two minutes of samples at one per second. */
const WINDOW = 120;

/** Polls `/v1/stats` once a second and keeps the last two minutes as chart series. */
function useStatsHistory(): {
  samples: StatsSample[];
  latest: GatewayStats | undefined;
  error: string | undefined;
} {
  const [samples, setSamples] = useState<StatsSample[]>([]);
  const [latest, setLatest] = useState<GatewayStats | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    let prev: { at: number; stats: GatewayStats } | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const poll = async () => {
      try {
        const stats = await fetchStats(controller.signal);
        if (stopped) return;
        const at = Date.now();
        const sample = toSample(prev, at, stats);
        prev = { at, stats };
        setLatest(stats);
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

const col = <K extends keyof StatsSample>(samples: StatsSample[], key: K) =>
  samples.map((s) => s[key] as number | undefined);

export function SystemView(): ReactNode {
  const { samples, latest, error } = useStatsHistory();
  const hasLatency = samples.some((s) => s.latencyP50 !== undefined);
  const hasLog = samples.some((s) => s.logBytes !== undefined);
  // Timestamps are whole milliseconds, so a 0 means "under one".
  const ms = (v: number) => (v < 1 ? '<1 ms' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);
  const perSec = (v: number) => `${formatCount(v)}/s`;

  return (
    <section className="page" aria-labelledby="system-title">
      <div className="page-head">
        <h1 id="system-title">System</h1>
        {latest && (
          <p className="muted">
            {latest.engine} log · up {formatDuration(latest.uptimeMs ?? 0)} ·{' '}
            {formatCount(latest.publishedEvents ?? 0)} events in · {formatCount(latest.deliveredEvents ?? 0)}{' '}
            out
          </p>
        )}
      </div>
      {error && (
        <p className="notice notice-bad" role="alert">
          Could not read /v1/stats: {error}. Retrying…
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
      </div>
      {latest && (
        <details className="panel raw-stats">
          <summary>All counters</summary>
          <dl className="kv">
            {Object.entries(latest)
              .filter(([, v]) => typeof v !== 'object' || v === null)
              .map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd className="mono">{String(v)}</dd>
                </div>
              ))}
          </dl>
        </details>
      )}
    </section>
  );
}
