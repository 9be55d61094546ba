import { useEffect, type ReactNode } from 'react';
import { ConnectionBadge } from './components/ConnectionBadge.js';
import { ThemeToggle } from './components/ThemeToggle.js';
import { Link, useRoute, type Route } from './router.js';
import { NewTaskView } from './views/NewTaskView.js';
import { ProjectView } from './views/ProjectView.js';
import { SystemView } from './views/SystemView.js';
import { TaskListView } from './views/TaskListView.js';
import { TaskView } from './views/TaskView.js';
import { WatchView } from './views/WatchView.js';

function titleOf(route: Route): string {
  switch (route.page) {
    case 'tasks':
      return 'Tasks';
    case 'task':
      return `Task ${route.taskId}`;
    case 'project':
      return `Project ${route.projectId}`;
    case 'watch':
      return 'Watch';
    case 'system':
      return 'System';
    case 'new':
      return 'New task';
    case 'missing':
      return 'Not found';
  }
}

export function App(): ReactNode {
  const route = useRoute();
  useEffect(() => {
    document.title = `${titleOf(route)} · agentwire`;
  }, [route]);
  const section = route.page === 'system' || route.page === 'watch' ? route.page : 'tasks';
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="agentwire home">
          <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
            <path
              d="M4 20c4 0 4-8 8-8s4 8 8 8 4-8 8-8"
              fill="none"
              stroke="currentColor"
              strokeWidth="3"
              strokeLinecap="round"
            />
          </svg>
          <span>agentwire</span>
        </Link>
        <nav aria-label="Main">
          <Link to="/" aria-current={section === 'tasks' ? 'page' : undefined}>
            Tasks
          </Link>
          <Link to="/watch" aria-current={section === 'watch' ? 'page' : undefined}>
            Watch
          </Link>
          <Link to="/system" aria-current={section === 'system' ? 'page' : undefined}>
            System
          </Link>
        </nav>
        <div className="topbar-end">
          <Link to="/new" className="new-task-link" aria-current={route.page === 'new' ? 'page' : undefined}>
            New task
          </Link>
          <ConnectionBadge />
          <ThemeToggle />
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }): ReactNode {
  switch (route.page) {
    case 'tasks':
      return <TaskListView status={route.status} project={route.project} search={route.search} />;
    case 'task':
      // Keyed by task: a different task is a fresh view, not the old one's state with new props.
      return <TaskView key={route.taskId} taskId={route.taskId} tab={route.tab} />;
    case 'project':
      return <ProjectView key={route.projectId} projectId={route.projectId} />;
    case 'watch':
      return <WatchView status={route.status} project={route.project} />;
    case 'system':
      return <SystemView />;
    case 'new':
      return <NewTaskView />;
    case 'missing':
      return (
        <section className="page">
          <h1>Not found</h1>
          <p>
            Nothing at <code>{route.path}</code>. <Link to="/">See all tasks</Link>.
          </p>
        </section>
      );
  }
}
