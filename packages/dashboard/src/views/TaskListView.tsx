import type { ReactNode } from 'react';
import type { TaskSummary } from '../api.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { StatusPill } from '../components/StatusPill.js';
import { formatAgo, formatDuration } from '../lib/format.js';
import { Link, navigate, taskPath } from '../router.js';
import { useNow } from '../use-now.js';
import { useTaskList } from '../use-task-list.js';

const STATUSES = ['running', 'pending', 'completed', 'failed', 'cancelled'];

function listPath(status: string | undefined, project: string | undefined): string {
  const q = new URLSearchParams();
  if (status) q.set('status', status);
  if (project) q.set('project', project);
  const s = q.toString();
  return s ? `/?${s}` : '/';
}

export function TaskListView({
  status,
  project,
}: {
  status: string | undefined;
  project: string | undefined;
}): ReactNode {
  const { tasks, error, projects } = useTaskList(status, project);
  const now = useNow(1_000);
  const projectOptions = project && !projects.includes(project) ? [...projects, project] : projects;

  return (
    <section className="page" aria-labelledby="tasks-title">
      <div className="page-head">
        <h1 id="tasks-title">Tasks</h1>
        <div className="filters" role="group" aria-label="Filter tasks">
          <label>
            <span>Status</span>
            <select
              value={status ?? ''}
              onChange={(e) => navigate(listPath(e.target.value || undefined, project), { replace: true })}
            >
              <option value="">all</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>Project</span>
            <select
              value={project ?? ''}
              onChange={(e) => navigate(listPath(status, e.target.value || undefined), { replace: true })}
            >
              <option value="">all</option>
              {projectOptions.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      {error && (
        <p className="notice notice-bad" role="alert">
          Could not load tasks: {error}. Retrying…
        </p>
      )}
      {tasks === undefined && !error && <p className="muted">Loading tasks…</p>}
      {tasks !== undefined && tasks.length === 0 && (
        <p className="empty">
          No tasks{status || project ? ' match these filters' : ' yet'}. Start an agent with the SDK, or run{' '}
          <code>agentwire demo</code>.
        </p>
      )}
      {tasks !== undefined && tasks.length > 0 && (
        <ul className="task-list" aria-label="Tasks, newest first" data-count={tasks.length}>
          {tasks.map((t) => (
            <TaskRow key={t.taskId} task={t} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}

function TaskRow({ task: t, now }: { task: TaskSummary; now: number }): ReactNode {
  const start = t.startedAt ?? t.createdAt;
  const elapsed =
    (t.endedAt ?? (t.status === 'running' || t.status === 'pending' ? now : t.updatedAt)) - start;
  return (
    <li className="task-row" data-task-id={t.taskId} data-status={t.status}>
      <div className="task-row-main">
        <StatusPill status={t.status} />
        <Link to={taskPath(t.taskId)} className="task-title">
          {t.title || t.taskId}
        </Link>
        {t.openQuestions > 0 && (
          <span className="pill pill-question" title="Questions waiting for an answer">
            {t.openQuestions} question{t.openQuestions > 1 ? 's' : ''}
          </span>
        )}
      </div>
      <div className="task-row-meta">
        {t.projectId && <span title="Project">{t.projectId}</span>}
        {t.stage && <span title="Stage">{t.stage}</span>}
        <span title="Agents running / total">
          {t.runningAgents}/{t.agents} agents
        </span>
        <span title="Tool calls">{t.tools} tools</span>
        <span title={`Started ${new Date(start).toLocaleString()}`}>{formatDuration(elapsed)}</span>
        <span className="muted" title="Last activity">
          {formatAgo(t.updatedAt, now)}
        </span>
      </div>
      <div className="task-row-progress">
        <ProgressBar percent={t.percent} label={`Progress of ${t.title}`} status={t.status} />
        <span className="percent">{t.percent !== undefined ? `${Math.round(t.percent)}%` : ''}</span>
      </div>
    </li>
  );
}
