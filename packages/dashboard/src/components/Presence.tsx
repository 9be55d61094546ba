import type { ReactNode } from 'react';
import { usePresence } from '../use-presence.js';

/**
 * Who else watches this task. The gateway reports subscribers per stream in `/v1/stats` as
 * `watchers` when it supports presence; until then this says so instead of guessing.
 */
export function Presence({ stream }: { stream: string }): ReactNode {
  const watchers = usePresence(stream);
  if (watchers === undefined) {
    return (
      <span className="presence presence-unknown" title="This gateway does not report presence yet">
        <EyeIcon /> presence n/a
      </span>
    );
  }
  const others = Math.max(0, watchers - 1);
  return (
    <span
      className="presence"
      title={`${watchers} subscriber${watchers === 1 ? '' : 's'} on ${stream}, this page included`}
    >
      <EyeIcon /> {others === 0 ? 'only you' : `you + ${others} watching`}
    </span>
  );
}

function EyeIcon(): ReactNode {
  return (
    <svg className="icon" viewBox="0 0 24 24" width="14" height="14" aria-hidden="true">
      <path
        d="M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
      />
      <circle cx="12" cy="12" r="3" fill="currentColor" />
    </svg>
  );
}
