import { useEffect, useRef, useState } from 'react';
import type { AgentwireError, TaskList, TaskListOptions, TaskListView } from '@agentwire/client';
import { useAgentwireClient } from './use-client.js';

export interface LiveTaskList extends TaskListView {
  /** The gateway's refusal of the current options, if it refused them. */
  error: AgentwireError | undefined;
}

const EMPTY: TaskListView = { total: 0, offset: 0, rows: [], loaded: false };

/**
 * A live window on the gateway's task list: the gateway filters (`query`), sorts (newest task
 * first) and sends only the `limit` rows from `offset`, a few times a second at most, so a list
 * of any length stays cheap. Change `offset` as the user scrolls (a virtualized list) and the
 * window follows. One per client, as `client.watchTasks`.
 *
 * ```tsx
 * const { rows, total } = useTaskList({ query: { status: 'running' }, limit: 50 });
 * ```
 */
export function useTaskList(options: TaskListOptions = {}): LiveTaskList {
  const client = useAgentwireClient();
  const [view, setView] = useState<TaskListView>(EMPTY);
  const [error, setError] = useState<AgentwireError | undefined>(undefined);
  const list = useRef<TaskList | undefined>(undefined);
  const key = JSON.stringify([options.query ?? {}, options.offset ?? 0, options.limit ?? 100]);
  const latest = useRef(options);
  latest.current = options;

  useEffect(() => {
    const watch = client.watchTasks(latest.current);
    list.current = watch;
    setView(watch.view);
    const offChange = watch.on('change', (v) => {
      setError(undefined);
      setView(v);
    });
    const offError = watch.on('error', setError);
    return () => {
      offChange();
      offError();
      watch.close();
      if (list.current === watch) list.current = undefined;
    };
  }, [client]);

  useEffect(() => {
    const watch = list.current;
    if (!watch) return;
    const [query, offset, limit] = JSON.parse(key) as [TaskListOptions['query'], number, number];
    const o = watch.options;
    if (JSON.stringify([o.query, o.offset, o.limit]) === JSON.stringify([query, offset, limit])) return;
    try {
      watch.update({ query: query ?? {}, offset, limit });
    } catch (err) {
      setError(err as AgentwireError);
    }
  }, [key]);

  return { ...view, error };
}
