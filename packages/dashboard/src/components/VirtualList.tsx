import { useEffect, useLayoutEffect, useRef, useState, type ReactNode, type UIEvent } from 'react';

/**
 * A list that renders only the rows in view (plus a margin), so 50,000 lines scroll like 50.
 * Rows have one fixed height, which keeps every position a multiplication instead of a measurement.
 * With `follow` on, it stays at the bottom as rows arrive; scrolling up turns `follow` off through
 * `onFollowChange`, and scrolling back to the bottom turns it on again.
 */
export function VirtualList({
  count,
  rowHeight,
  renderRow,
  follow,
  onFollowChange,
  label,
  className,
  onRange,
  role = 'log',
}: {
  count: number;
  rowHeight: number;
  renderRow: (index: number) => ReactNode;
  follow: boolean;
  onFollowChange: (follow: boolean) => void;
  label: string;
  className?: string;
  /** The rendered rows, `first` included and `last` excluded, whenever they change. */
  onRange?: (first: number, last: number) => void;
  role?: 'log' | 'list';
}): ReactNode {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(400);
  const total = count * rowHeight;

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setViewport(el.clientHeight);
    const observer = new ResizeObserver(() => setViewport(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Before paint, so a following terminal never flashes the rows above the newest.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !follow) return;
    const bottom = Math.max(0, total - el.clientHeight);
    if (Math.abs(el.scrollTop - bottom) > 1) el.scrollTop = bottom;
    setScrollTop(el.scrollTop);
  }, [follow, total, viewport]);

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    setScrollTop(el.scrollTop);
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < rowHeight;
    if (follow && !atBottom) onFollowChange(false);
    else if (!follow && atBottom) onFollowChange(true);
  };

  const overscan = 10;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  useEffect(() => onRange?.(first, last), [onRange, first, last]);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div
        key={i}
        className="vrow"
        role={role === 'list' ? 'listitem' : undefined}
        style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight }}
      >
        {renderRow(i)}
      </div>,
    );
  }
  return (
    <div
      ref={ref}
      className={`vlist ${className ?? ''}`}
      onScroll={onScroll}
      tabIndex={0}
      role={role}
      aria-label={label}
      {...(role === 'log' && { 'aria-live': 'off' as const })}
    >
      <div className="vlist-spacer" style={{ height: total }}>
        {rows}
      </div>
    </div>
  );
}
