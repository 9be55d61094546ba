import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react';

/** The dashboard's pages. Paths are real URLs (the gateway falls back to index.html), so links can be shared. */
export type Route =
  | { page: 'tasks'; status: string | undefined; project: string | undefined; search: string | undefined }
  | { page: 'task'; taskId: string; tab: 'overview' | 'terminal' }
  | { page: 'project'; projectId: string }
  | { page: 'watch'; status: string | undefined; project: string | undefined }
  | { page: 'system' }
  | { page: 'new' }
  | { page: 'missing'; path: string };

export function parseRoute(pathname: string, search: string): Route {
  const q = new URLSearchParams(search);
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0)
    return {
      page: 'tasks',
      status: q.get('status') ?? undefined,
      project: q.get('project') ?? undefined,
      search: q.get('q') ?? undefined,
    };
  if (parts[0] === 'projects' && parts[1] !== undefined && parts.length === 2)
    return { page: 'project', projectId: parts[1] };
  if (parts[0] === 'tasks' && parts[1] !== undefined && parts.length <= 3) {
    if (parts.length === 2) return { page: 'task', taskId: parts[1], tab: 'overview' };
    if (parts[2] === 'terminal') return { page: 'task', taskId: parts[1], tab: 'terminal' };
  }
  if (parts[0] === 'watch' && parts.length === 1)
    return { page: 'watch', status: q.get('status') ?? undefined, project: q.get('project') ?? undefined };
  if (parts[0] === 'system' && parts.length === 1) return { page: 'system' };
  if (parts[0] === 'new' && parts.length === 1) return { page: 'new' };
  return { page: 'missing', path: pathname };
}

export const taskPath = (taskId: string, tab: 'overview' | 'terminal' = 'overview'): string =>
  `/tasks/${encodeURIComponent(taskId)}${tab === 'terminal' ? '/terminal' : ''}`;

export const projectPath = (projectId: string): string => `/projects/${encodeURIComponent(projectId)}`;

const listeners = new Set<() => void>();
const notify = () => {
  for (const l of [...listeners]) l();
};
window.addEventListener('popstate', notify);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === `${location.pathname}${location.search}`) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
}

const subscribe = (l: () => void) => {
  listeners.add(l);
  return () => listeners.delete(l);
};
const currentHref = () => `${location.pathname}${location.search}`;

export function useRoute(): Route {
  const href = useSyncExternalStore(subscribe, currentHref);
  const i = href.indexOf('?');
  return parseRoute(i === -1 ? href : href.slice(0, i), i === -1 ? '' : href.slice(i));
}

/** An `<a>` that navigates in-page; modified clicks (new tab, download) stay the browser's. */
export function Link({
  to,
  children,
  ...rest
}: { to: string; children: ReactNode } & AnchorHTMLAttributes<HTMLAnchorElement>): ReactNode {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} {...rest} onClick={onClick}>
      {children}
    </a>
  );
}
