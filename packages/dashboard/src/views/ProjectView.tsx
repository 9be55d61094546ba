import type { ReactNode } from 'react';
import { projectStream } from '@agentwire/protocol';
import { useSubscription, useTaskList } from '@agentwire/react';
import { StatusPill } from '../components/StatusPill.js';
import { Terminal } from '../components/Terminal.js';
import { Presence } from '../components/Presence.js';
import { formatAgo } from '../lib/format.js';
import { Link, taskPath } from '../router.js';
import { useNow } from '../use-now.js';

/** Newest tasks of the project listed above its terminal. */
const RECENT_TASKS = 8;

/**
 * A whole project, live: its newest tasks, and one terminal over the project's stream, where every
 * event of every task of the project arrives in one order (docs/protocol.md, "Projects").
 */
export function ProjectView({ projectId }: { projectId: string }): ReactNode {
  const stream = projectStream(projectId);
  const sub = useSubscription(stream);
  const list = useTaskList({ query: { project: projectId }, limit: RECENT_TASKS });
  const now = useNow(5_000);
  const listPath = `/?project=${encodeURIComponent(projectId)}`;

  return (
    <section className="page project-view" aria-labelledby="project-title">
      <Link to="/" className="back">
        ← All tasks
      </Link>
      <header className="task-head">
        <div className="task-head-title">
          <h1 id="project-title">
            <span className="muted">Project</span> {projectId}
          </h1>
        </div>
        <div className="task-head-meta muted">
          <Link to={listPath}>
            {list.loaded ? `${list.total.toLocaleString()} task${list.total === 1 ? '' : 's'}` : 'tasks'}
          </Link>
          <span className="mono" title="Stream">
            {stream}
          </span>
          <Presence stream={stream} />
        </div>
      </header>
      {list.error && (
        <p className="notice notice-bad" role="alert">
          The gateway refused this project: {list.error.message}
        </p>
      )}
      <ul className="project-tasks" aria-label={`Newest tasks of ${projectId}`}>
        {list.rows.map((t) => (
          <li key={t.taskId} data-task-id={t.taskId} data-status={t.status}>
            <StatusPill status={t.status} />
            <Link to={taskPath(t.taskId)} className="task-title">
              {t.title || t.taskId}
            </Link>
            <span className="muted">{formatAgo(t.updatedAt, now)}</span>
          </li>
        ))}
        {list.total > list.rows.length && (
          <li>
            <Link to={listPath}>all {list.total.toLocaleString()} tasks →</Link>
          </li>
        )}
      </ul>
      <Terminal stream={stream} sub={sub} state={undefined} />
    </section>
  );
}
