import { memo, type ReactNode } from 'react';
import { TASK_STATUSES, taskStream, type TaskListQuery, type TaskStatus } from '@agentwire/protocol';
import { useCurrentAnswer, useTaskList } from '@agentwire/react';
import { StatusPill } from '../components/StatusPill.js';
import { Link, taskPath } from '../router.js';
import { useAccessError } from '../use-access-error.js';

/** Most tasks watched at once: each tile is a live subscription. */
export const WATCH_MAX = 24;
/** The tail of an answer a tile shows: enough to follow it, bounded so a long answer lays out cheaply. */
const TAIL_CHARS = 600;

/**
 * Several live tasks on one page, each tile showing its task's current answer as it is written:
 * watching twenty tasks is one page (one renderer, one connection) rather than twenty tabs. The
 * gateway's task list picks the tasks (running ones by default, newest first).
 */
export function WatchView({
  status,
  project,
}: {
  status: string | undefined;
  project: string | undefined;
}): ReactNode {
  const query: TaskListQuery = {
    status:
      status && (TASK_STATUSES as readonly string[]).includes(status) ? (status as TaskStatus) : 'running',
  };
  if (project) query.project = project;
  const list = useTaskList({ query, offset: 0, limit: WATCH_MAX });
  const refused = useAccessError();

  return (
    <section className="page" aria-labelledby="watch-title">
      <div className="page-head">
        <h1 id="watch-title">
          Watch{' '}
          {list.loaded && (
            <span className="muted count" data-total={list.total}>
              {list.rows.length < list.total
                ? `${list.rows.length} of ${list.total.toLocaleString()} ${query.status}`
                : `${list.total.toLocaleString()} ${query.status}`}
            </span>
          )}
        </h1>
      </div>
      {refused && (
        <p className="notice notice-bad" role="alert">
          Cannot show tasks: {refused}.
        </p>
      )}
      {list.loaded && list.rows.length === 0 ? (
        <p className="muted empty">No {query.status} tasks to watch.</p>
      ) : (
        <ul className="watch-grid" aria-label="Watched tasks">
          {list.rows.map((t) => (
            <WatchTile key={t.taskId} taskId={t.taskId} title={t.title} status={t.status} />
          ))}
        </ul>
      )}
    </section>
  );
}

const WatchTile = memo(function WatchTile({
  taskId,
  title,
  status,
}: {
  taskId: string;
  title: string | undefined;
  status: string;
}): ReactNode {
  const answer = useCurrentAnswer(taskStream(taskId));
  const tail = answer.text.length > TAIL_CHARS ? `…${answer.text.slice(-TAIL_CHARS)}` : answer.text;
  return (
    <li className="watch-tile" data-task-id={taskId} data-status={status}>
      <div className="watch-head">
        <Link to={taskPath(taskId)} className="watch-title">
          {title || taskId}
        </Link>
        <StatusPill status={status} />
      </div>
      <div className="watch-answer" aria-busy={answer.messageId !== undefined && !answer.done}>
        {answer.messageId === undefined ? (
          <p className="muted">No answer yet.</p>
        ) : (
          <p className="watch-text">{tail}</p>
        )}
      </div>
    </li>
  );
});
