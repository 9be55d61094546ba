import { useEffect, useState } from 'react';
import { useAgentwireClient } from '@agentwire/react';
import { listTasks, type TaskSummary } from './api.js';

/** How often the list asks for news. The protocol has no "all tasks" stream for browsers yet. */
const POLL_MS = 1_500;

export interface TaskList {
  tasks: TaskSummary[] | undefined;
  error: string | undefined;
  /** Every project seen so far, for the filter (a filtered answer alone would hide the others). */
  projects: string[];
}

/**
 * The task list, kept fresh by polling `GET /v1/tasks`. Polling works on every transport and
 * through every proxy, costs one small request per interval, and picks up new tasks and status
 * changes alike. It pauses while the tab is hidden and refreshes at once when the tab shows again
 * or the connection comes back.
 */
export function useTaskList(status: string | undefined, project: string | undefined): TaskList {
  const client = useAgentwireClient();
  const [tasks, setTasks] = useState<TaskSummary[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [projects, setProjects] = useState<string[]>([]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | undefined;
    setTasks(undefined);

    const poll = async () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      controller?.abort();
      const mine = (controller = new AbortController());
      try {
        const list = await listTasks({ status, project, limit: 100 }, mine.signal);
        if (stopped || mine.signal.aborted) return;
        // Newest first by creation: the API orders by latest activity, which reshuffles rows.
        list.sort((a, b) => b.createdAt - a.createdAt);
        setTasks(list);
        setError(undefined);
        setProjects((prev) => {
          const seen = new Set(prev);
          let changed = false;
          for (const t of list) {
            if (t.projectId !== undefined && !seen.has(t.projectId)) {
              seen.add(t.projectId);
              changed = true;
            }
          }
          return changed ? [...seen].sort() : prev;
        });
      } catch (err) {
        if (stopped || mine.signal.aborted) return;
        setError(String((err as Error).message ?? err));
      }
      if (!stopped && !document.hidden) timer = setTimeout(() => void poll(), POLL_MS);
    };

    const onVisible = () => {
      if (!document.hidden) void poll();
    };
    const offStatus = client.on('status', (s) => {
      if (s !== 'connecting' && s !== 'offline' && s !== 'closed') void poll();
    });
    document.addEventListener('visibilitychange', onVisible);
    void poll();
    return () => {
      stopped = true;
      controller?.abort();
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
      offStatus();
    };
  }, [client, status, project]);

  return { tasks, error, projects };
}
