import type { Row } from './scenarios/context.js';

const fmt = (n: number | undefined, digits = 1): string =>
  n === undefined || Number.isNaN(n)
    ? ''
    : !Number.isFinite(n)
      ? '∞'
      : n >= 100
        ? Math.round(n).toLocaleString('en-US')
        : n.toFixed(digits);

/**
 * agentwire's value over the peer's on the row's main metric, for the peer rows. The header says
 * which metric each scenario compares; above 1 is better for agentwire on deliveries/s, below 1 on
 * latency, memory and time.
 */
function ratio(rows: Row[], row: Row): string {
  if (row.server === 'agentwire' || !row.primary) return '';
  const ours = rows.find(
    (r) => r.server === 'agentwire' && r.scenario === row.scenario && r.primary === row.primary,
  );
  const a = ours?.[row.primary];
  const b = row[row.primary];
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '';
  const labels = { perSec: 'thru', p99: 'p99', bytesPerConn: 'mem', timeS: 'time' } as const;
  return `${(a / b).toFixed(2)}× ${labels[row.primary]}`;
}

const columns: [string, (row: Row, rows: Row[]) => string][] = [
  ['scenario', (r) => r.scenario],
  ['server', (r) => r.server],
  ['mode', (r) => r.mode],
  ['deliveries/s', (r) => fmt(r.perSec, 0)],
  ['p50 ms', (r) => fmt(r.p50, 2)],
  ['p99 ms', (r) => fmt(r.p99, 2)],
  ['p999 ms', (r) => fmt(r.p999, 2)],
  ['CPU s', (r) => (r.cpuS === undefined ? '' : `${r.cpuS.toFixed(2)}/${fmt(r.wallS, 2)}`)],
  // Server CPU per delivery holds up better than rates when other work shares the machine.
  [
    'CPU µs/dlv',
    (r) =>
      r.cpuS === undefined || !r.perSec || !r.wallS ? '' : fmt((r.cpuS * 1e6) / (r.perSec * r.wallS), 2),
  ],
  ['RSS MB', (r) => fmt(r.rssMB, 0)],
  ['B/conn', (r) => fmt(r.bytesPerConn, 0)],
  ['load %', (r) => fmt(r.loadPct, 0)],
  ['time s', (r) => fmt(r.timeS, 2)],
  ['aw/peer', (r, rows) => ratio(rows, r)],
  ['note', (r) => r.note ?? ''],
];

/** A plain-text table for the terminal, or a Markdown one for results.md. */
export function renderTable(rows: Row[], markdown = false): string {
  const cells = rows.map((r) => columns.map(([, get]) => get(r, rows)));
  const heads = columns.map(([h]) => h);
  if (markdown) {
    const line = (c: string[]): string => `| ${c.join(' | ')} |`;
    return [line(heads), line(heads.map(() => '---')), ...cells.map(line)].join('\n');
  }
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(heads), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
