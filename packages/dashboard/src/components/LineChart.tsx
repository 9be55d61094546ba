import { memo, type ReactNode } from 'react';
import { useWidth } from '../use-width.js';

export interface Series {
  label: string;
  /** A CSS colour or variable; also marks the legend. */
  color: string;
  values: (number | undefined)[];
}

/**
 * A small live line chart in plain SVG: a few series over the same samples, the y-axis from zero
 * to a rounded maximum, gaps where a value is unknown. Enough for a system view, no chart library.
 */
export const LineChart = memo(function LineChart({
  title,
  series,
  format,
  capacity,
  height = 120,
}: {
  title: string;
  series: Series[];
  format: (v: number) => string;
  /** Samples the chart holds when full; new ones enter at the right, so time runs left to right. */
  capacity: number;
  height?: number;
}): ReactNode {
  const [ref, width] = useWidth<HTMLDivElement>(320);
  const n = Math.max(2, capacity);
  const len = Math.max(0, ...series.map((s) => s.values.length));
  let max = 0;
  for (const s of series) for (const v of s.values) if (v !== undefined && v > max) max = v;
  const top = niceCeil(max);
  const padTop = 8;
  const padBottom = 4;
  const plotH = height - padTop - padBottom;
  const x = (i: number) => width - ((len - 1 - i) / (n - 1)) * width;
  const y = (v: number) => padTop + plotH - (top === 0 ? 0 : (v / top) * plotH);

  const paths = series.map((s) => {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  });
  const latest = series.map((s) => [...s.values].reverse().find((v) => v !== undefined));

  return (
    <figure className="chart">
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="chart-legend">
          {series.map((s, i) => (
            <span key={s.label} className="legend-item">
              <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
              {s.label} <strong>{latest[i] === undefined ? '–' : format(latest[i])}</strong>
            </span>
          ))}
        </span>
      </figcaption>
      <div ref={ref} className="chart-plot">
        <svg
          width={width}
          height={height}
          role="img"
          aria-label={`${title}: ${series.map((s, i) => `${s.label} ${latest[i] === undefined ? 'unknown' : format(latest[i])}`).join(', ')}`}
        >
          <line className="grid" x1={0} x2={width} y1={y(top)} y2={y(top)} />
          <line className="grid" x1={0} x2={width} y1={y(top / 2)} y2={y(top / 2)} />
          <line className="axis" x1={0} x2={width} y1={y(0)} y2={y(0)} />
          <text className="grid-label" x={4} y={y(top) + 11}>
            {format(top)}
          </text>
          {paths.map((d, i) => (
            <path
              key={series[i]!.label}
              d={d}
              fill="none"
              stroke={series[i]!.color}
              strokeWidth={1.8}
              strokeLinejoin="round"
            />
          ))}
        </svg>
      </div>
    </figure>
  );
});

/** 1, 2 or 5 times a power of ten, at least `v`: axis maxima people can read at a glance. */
function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
