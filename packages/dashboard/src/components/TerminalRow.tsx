import { memo, type ReactNode } from 'react';
import { formatClock } from '../lib/format.js';
import type { TerminalLine } from '../lib/terminal-line.js';

/**
 * One line of the live terminal. Memoized on the line (lines never change once made) and the
 * agent's name: a following terminal re-renders its whole window of rows on every batch of events,
 * and only the rows that scrolled into view need building.
 */
export const TerminalRow = memo(function TerminalRow({
  line: l,
  agent,
}: {
  line: TerminalLine;
  agent: string;
}): ReactNode {
  return (
    <div className={`tline lvl-${l.level} fam-${l.family}`} title={l.text} data-seq={l.seq}>
      <span className="t-time">{formatClock(l.time)}</span>
      <span className="t-seq">#{l.seq}</span>
      <span className="t-level">{l.level}</span>
      <span className="t-type">{l.type}</span>
      <span className="t-agent" title={l.taskId && `task ${l.taskId}`}>
        {l.taskId !== undefined && <span className="t-task">{l.taskId}</span>}
        {agent}
      </span>
      <span className="t-text">{l.text}</span>
    </div>
  );
});
