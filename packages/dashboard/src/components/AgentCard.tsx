import { memo, type ReactNode } from 'react';
import type { AgentState, ToolCallState } from '@agentwire/protocol';
import { formatDuration } from '../lib/format.js';
import { ProgressBar } from './ProgressBar.js';
import { StatusPill } from './StatusPill.js';

/** One agent: who it is, what it is doing now, and how far along it is. */
export const AgentCard = memo(function AgentCard({
  agent,
  parentName,
  currentTool,
  toolCount,
  now,
}: {
  agent: AgentState;
  parentName: string | undefined;
  currentTool: ToolCallState | undefined;
  toolCount: number;
  now: number;
}): ReactNode {
  // `now` ticks once a second, so an agent spawned since the last tick must not show a negative age.
  const elapsed = Math.max(0, (agent.endedAt ?? now) - agent.startedAt);
  const activity = currentTool ? `calling ${currentTool.tool}` : (agent.activity ?? agent.detail);
  return (
    <article
      className={`agent-card agent-${agent.status}`}
      data-agent-id={agent.id}
      aria-label={`Agent ${agent.name}`}
    >
      <header>
        <h3>{agent.name}</h3>
        <StatusPill status={agent.status} />
      </header>
      <dl>
        {agent.model && (
          <>
            <dt>model</dt>
            <dd className="mono">{agent.model}</dd>
          </>
        )}
        {agent.role && (
          <>
            <dt>role</dt>
            <dd>{agent.role}</dd>
          </>
        )}
        {parentName && (
          <>
            <dt>parent</dt>
            <dd>{parentName}</dd>
          </>
        )}
      </dl>
      <p className="activity" title={activity}>
        {agent.status === 'running' && <span className="spinner" aria-hidden="true" />}
        {agent.error ? (
          <span className="error-text">{agent.error.message}</span>
        ) : (
          (activity ?? (agent.status === 'running' ? 'working' : agent.status))
        )}
      </p>
      <ProgressBar percent={agent.percent} label={`Progress of ${agent.name}`} status={agent.status} />
      <footer className="muted">
        <span>{formatDuration(elapsed)}</span>
        <span>{toolCount} tool calls</span>
        {agent.detail && <span>{agent.detail}</span>}
      </footer>
    </article>
  );
});
