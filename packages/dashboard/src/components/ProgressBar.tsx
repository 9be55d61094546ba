import type { ReactNode } from 'react';

export function ProgressBar({
  percent,
  label,
  status,
}: {
  percent: number | undefined;
  label: string;
  status?: string;
}): ReactNode {
  const value = percent === undefined ? undefined : Math.max(0, Math.min(100, percent));
  return (
    <div
      className={`progress progress-${status ?? 'running'}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value === undefined ? undefined : Math.round(value)}
    >
      <div
        className={`progress-fill${value === undefined ? ' progress-unknown' : ''}`}
        style={{ width: `${value ?? 100}%` }}
      />
    </div>
  );
}
