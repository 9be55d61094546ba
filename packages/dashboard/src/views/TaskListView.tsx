import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { TASK_STATUSES, type TaskListQuery, type TaskStatus, type TaskSummary } from '@agentwire/protocol';
import { useTaskList } from '@agentwire/react';
import { ProgressBar } from '../components/ProgressBar.js';
import { StatusPill } from '../components/StatusPill.js';
import { VirtualList } from '../components/VirtualList.js';
import { formatAgo, formatDuration } from '../lib/format.js';
import { taskWindow } from '../lib/task-window.js';
import { Link, navigate, projectPath, taskPath } from '../router.js';
import { useAccessError } from '../use-access-error.js';
import { useNow } from '../use-now.js';
import { useWidth } from '../use-width.js';

const STATUSES = ['running', 'pending', 'completed', 'failed', 'cancelled'];
/** How long typing pauses before the search goes to the gateway, in ms. */
const SEARCH_DELAY_MS = 250;

function listPath(
  status: string | undefined,
  project: string | undefined,
  search: string | undefined,
): string {
  const q = new URLSearchParams();
  if (status) q.set('status', status);
  if (project) q.set('project', project);
  if (search) q.set('q', search);
  const s = q.toString();
  return s ? `/?${s}` : '/';
}

/** Row height by layout: rows wrap onto more lines on narrow screens (styles.css). */
function rowHeight(width: number): number {
  if (width <= 600) return 104;
  if (width <= 940) return 78;
  return 58;
}

const noFollow = () => {};

/**
 * Every task, live: the gateway filters the list and sends only the rows in view (plus a margin),
 * updated as tasks change; the list renders only those rows, so ten thousand tasks scroll like ten.
 */
export function TaskListView({
  status,
  project,
  search,
}: {
  status: string | undefined;
  project: string | undefined;
  search: string | undefined;
}): ReactNode {
  const query = useMemo(() => {
    const q: TaskListQuery = {};
    if (status && (TASK_STATUSES as readonly string[]).includes(status)) q.status = status as TaskStatus;
    if (project) q.project = project;
    if (search) q.search = search;
    return q;
  }, [status, project, search]);
  const queryKey = JSON.stringify(query);
  const [range, setRange] = useState<[number, number]>([0, 40]);
  // A new filter starts at the top of its list.
  useEffect(() => setRange([0, 40]), [queryKey]);
  const span = taskWindow(range[0], range[1]);
  const list = useTaskList({ query, ...span });
  const onRange = useCallback((first: number, last: number) => {
    setRange((prev) => (prev[0] === first && prev[1] === last ? prev : [first, last]));
  }, []);
  const now = useNow(1_000);
  const refused = useAccessError();
  const [widthRef, width] = useWidth<HTMLElement>(1200);
  const rowH = rowHeight(width);

  const [typed, setTyped] = useState(search ?? '');
  useEffect(() => setTyped(search ?? ''), [search]);
  useEffect(() => {
    if (typed === (search ?? '')) return;
    const timer = setTimeout(
      () => navigate(listPath(status, project, typed.trim() || undefined), { replace: true }),
      SEARCH_DELAY_MS,
    );
    return () => clearTimeout(timer);
  }, [typed, search, status, project]);

  // Projects seen so far, for the project filter's suggestions.
  const [projects, setProjects] = useState<string[]>([]);
  useEffect(() => {
    setProjects((prev) => {
      const seen = new Set(prev);
      let changed = false;
      for (const t of list.rows) {
        if (t.projectId !== undefined && !seen.has(t.projectId)) {
          seen.add(t.projectId);
          changed = true;
        }
      }
      return changed ? [...seen].sort() : prev;
    });
  }, [list.rows]);

  const renderRow = (i: number) => {
    const t = list.rows[i - list.offset];
    if (!t) return <div className="task-row task-row-loading" aria-busy="true" />;
    return <TaskRow task={t} now={now} />;
  };
  const filtered = Boolean(status || project || search);

  return (
    <section className="page" aria-labelledby="tasks-title" ref={widthRef}>
      <div className="page-head">
        <h1 id="tasks-title">
          Tasks{' '}
          {list.loaded && (
            <span className="muted count" data-total={list.total}>
              {list.total.toLocaleString()}
            </span>
          )}
        </h1>
        <div className="filters" role="group" aria-label="Filter tasks">
          <label>
            <span>Status</span>
            <select
              value={status ?? ''}
              onChange={(e) =>
                navigate(listPath(e.target.value || undefined, project, search), { replace: true })
              }
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
            <input
              type="search"
              list="known-projects"
              placeholder="all"
              value={project ?? ''}
              onChange={(e) =>
                navigate(listPath(status, e.target.value || undefined, search), { replace: true })
              }
            />
            <datalist id="known-projects">
              {projects.map((p) => (
                <option key={p} value={p} />
              ))}
            </datalist>
          </label>
          <label>
            <span>Search</span>
            <input
              type="search"
              placeholder="title, id, kind, stage"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
            />
          </label>
          {project && (
            <Link to={projectPath(project)} className="button-link">
              Project view →
            </Link>
          )}
        </div>
      </div>
      {refused && (
        <p className="notice notice-bad" role="alert">
          Cannot show tasks: {refused}.
        </p>
      )}
      {list.error && (
        <p className="notice notice-bad" role="alert">
          The gateway refused this list: {list.error.message}
        </p>
      )}
      {!refused && !list.loaded && list.total === 0 && <p className="muted">Loading tasks…</p>}
      {list.loaded && list.total === 0 && (
        <p className="empty">
          No tasks{filtered ? ' match these filters' : ' yet'}. Start an agent with the SDK, or run{' '}
          <code>agentwire demo</code>.
        </p>
      )}
      {list.total > 0 && (
        <VirtualList
          key={queryKey}
          count={list.total}
          rowHeight={rowH}
          renderRow={renderRow}
          follow={false}
          onFollowChange={noFollow}
          onRange={onRange}
          role="list"
          label="Tasks, newest first"
          className="task-list"
        />
      )}
    </section>
  );
}

function TaskRow({ task: t, now }: { task: TaskSummary; now: number }): ReactNode {
  const start = t.startedAt ?? t.createdAt;
  const elapsed =
    (t.endedAt ?? (t.status === 'running' || t.status === 'pending' ? now : t.updatedAt)) - start;
  return (
    <div className="task-row" data-task-id={t.taskId} data-status={t.status}>
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
        {t.projectId && (
          <Link to={projectPath(t.projectId)} title="Project" className="project-link">
            {t.projectId}
          </Link>
        )}
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
    </div>
  );
}
