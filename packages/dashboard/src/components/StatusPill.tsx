import type { ReactNode } from 'react';

/** A task's, agent's or tool's status as a coloured word; colour is never the only signal. */
export function StatusPill({ status }: { status: string }): ReactNode {
  return <span className={`pill pill-${status}`}>{status}</span>;
}
