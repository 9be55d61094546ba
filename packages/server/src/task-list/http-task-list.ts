import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  AgentwireError,
  assertSchema,
  TaskListQuerySchema,
  type TaskListPage,
  type TaskListQuery,
  type TaskSummary,
} from '@agentwire/protocol';
import type { TaskIndex } from './task-index.js';

export interface TaskListRequest {
  query: TaskListQuery;
  offset: number;
  limit: number;
  visible?: (row: TaskSummary) => boolean;
}

/** `status`, `project` and `q` (the search) of `GET /v1/tasks`, checked like a `watch_tasks` query. */
export function parseTaskListQuery(url: URL): TaskListQuery {
  const query: Record<string, string> = {};
  for (const [param, field] of [
    ['status', 'status'],
    ['project', 'project'],
    ['q', 'search'],
  ] as const) {
    const value = url.searchParams.get(param);
    if (value !== null && value !== '') query[field] = value;
  }
  assertSchema(TaskListQuerySchema, query, 'invalid_message', 'Invalid task list query');
  return query as TaskListQuery;
}

export function taskListAnswer(index: TaskIndex, request: TaskListRequest): TaskListPage {
  const { total, rows } = index.query(request.query, request.offset, request.limit, request.visible);
  // The same rows give the same tag on every node, so a long-poll may go to any of them.
  const hash = createHash('sha256').update(`${total}|${request.offset}`);
  for (const r of rows) hash.update(`|${r.taskId}:${r.seq}:${r.updatedAt}`);
  return { tasks: rows, total, offset: request.offset, etag: hash.digest('base64url').slice(0, 22) };
}

/**
 * Answers as soon as the page differs from the one tagged `etag`, or after `waitMs` with the page
 * as it is. The index is looked at no more often than every `intervalMs`, however busy it is.
 */
export function waitForTaskList(
  index: TaskIndex,
  request: TaskListRequest,
  etag: string,
  options: { waitMs: number; intervalMs: number; closed: ServerResponse },
): Promise<TaskListPage> {
  const first = taskListAnswer(index, request);
  if (first.etag !== etag || options.waitMs <= 0) return Promise.resolve(first);
  return new Promise((resolve, reject) => {
    let check: NodeJS.Timeout | undefined;
    const finish = (answer: TaskListPage | undefined, err?: AgentwireError) => {
      clearTimeout(deadline);
      clearTimeout(check);
      unlisten();
      options.closed.off('close', onClose);
      if (answer) resolve(answer);
      else reject(err ?? new AgentwireError('internal'));
    };
    const deadline = setTimeout(() => finish(taskListAnswer(index, request)), options.waitMs);
    const unlisten = index.onChange(() => {
      if (index.closed) {
        finish(taskListAnswer(index, request));
        return;
      }
      check ??= setTimeout(() => {
        check = undefined;
        const answer = taskListAnswer(index, request);
        if (answer.etag !== etag) finish(answer);
      }, options.intervalMs);
    });
    // The client went away: stop waiting for it (nobody reads the answer).
    const onClose = () => finish(undefined, new AgentwireError('unavailable', 'The request was closed.'));
    options.closed.on('close', onClose);
  });
}
