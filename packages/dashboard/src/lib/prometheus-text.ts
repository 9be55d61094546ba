/** One sample of a scrape: the series name (with `_bucket`, `_sum`, `_count` kept), its labels, its value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A scrape, by series name. */
export type Scrape = ReadonlyMap<string, readonly MetricSample[]>;

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format (what `GET /metrics` answers); comments and junk are skipped. */
export function parsePrometheusText(text: string): Scrape {
  const out = new Map<string, MetricSample[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) {
      labels[k!] = v!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const name = m[1]!;
    let list = out.get(name);
    if (!list) out.set(name, (list = []));
    list.push({ name, labels, value });
  }
  return out;
}

/** The sum of a series over every label set (or those matching `where`); undefined if absent. */
export function total(scrape: Scrape, name: string, where: Record<string, string> = {}): number | undefined {
  const list = scrape.get(name);
  if (!list) return undefined;
  let sum = 0;
  let seen = false;
  for (const s of list) {
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) {
      sum += s.value;
      seen = true;
    }
  }
  return seen ? sum : undefined;
}

/** Each label value of `label` on a series, with its value. */
export function byLabel(scrape: Scrape, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of scrape.get(name) ?? []) {
    const key = s.labels[label];
    if (key !== undefined) out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/**
 * A quantile of a histogram over the interval between two scrapes, from the growth of its
 * cumulative buckets (what PromQL's `histogram_quantile` over `rate()` does), in the histogram's
 * unit; undefined when nothing was observed in between.
 */
export function intervalQuantile(
  before: Scrape | undefined,
  now: Scrape,
  histogram: string,
  q: number,
): number | undefined {
  const buckets = (s: Scrape | undefined) => {
    const m = new Map<number, number>();
    for (const b of s?.get(`${histogram}_bucket`) ?? []) {
      const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
      m.set(le, (m.get(le) ?? 0) + b.value);
    }
    return m;
  };
  const a = buckets(before);
  const b = buckets(now);
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const deltas = bounds.map((le) => Math.max(0, b.get(le)! - (a.get(le) ?? 0)));
  const count = deltas[deltas.length - 1] ?? 0;
  if (count <= 0) return undefined;
  const rank = q * count;
  for (let i = 0; i < bounds.length; i++) {
    if (deltas[i]! >= rank) {
      const upper = bounds[i]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      if (!Number.isFinite(upper)) return lower;
      const below = i === 0 ? 0 : deltas[i - 1]!;
      const inBucket = deltas[i]! - below;
      return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
    }
  }
  return undefined;
}
