import { Type, type Static } from '@sinclair/typebox';
import type { TaskState, TaskStatus } from './reducer.js';

/** One row of the task list: what a list needs without the whole state. */
export interface TaskSummary {
  taskId: string;
  stream: string;
  title: string;
  status: TaskStatus;
  kind?: string;
  projectId?: string;
  stage?: string;
  percent?: number;
  agents: number;
  runningAgents: number;
  tools: number;
  openQuestions: number;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  updatedAt: number;
  seq: number;
}

/** The row of a task state; the same function on the gateway and in clients. */
export function summarize(state: TaskState): TaskSummary {
  let running = 0;
  let agents = 0;
  for (const id in state.agents) {
    agents++;
    if (state.agents[id]!.status === 'running') running++;
  }
  let open = 0;
  for (const id in state.questions) if (state.questions[id]!.status === 'open') open++;
  const summary: TaskSummary = {
    taskId: state.taskId,
    stream: state.stream,
    title: state.title,
    status: state.status,
    agents,
    runningAgents: running,
    tools: state.toolOrder.length,
    openQuestions: open,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    seq: state.seq,
  };
  if (state.kind !== undefined) summary.kind = state.kind;
  if (state.projectId !== undefined) summary.projectId = state.projectId;
  if (state.stage !== undefined) summary.stage = state.stage;
  if (state.progress?.percent !== undefined) summary.percent = state.progress.percent;
  if (state.startedAt !== undefined) summary.startedAt = state.startedAt;
  if (state.endedAt !== undefined) summary.endedAt = state.endedAt;
  return summary;
}

export const TASK_STATUSES: readonly TaskStatus[] = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
];

/** Which tasks a list shows; every field narrows it, none shows every task the caller may read. */
export const TaskListQuerySchema = Type.Object(
  {
    status: Type.Optional(
      Type.Union([
        Type.Literal('pending'),
        Type.Literal('running'),
        Type.Literal('completed'),
        Type.Literal('failed'),
        Type.Literal('cancelled'),
      ]),
    ),
    project: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** Case-insensitive substring of the title, task id, kind, project or stage. */
    search: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { $id: 'TaskListQuery', additionalProperties: false },
);
export type TaskListQuery = Static<typeof TaskListQuerySchema>;

/** Whether a row passes a query; `search` must already be lower-cased. */
export function matchesTaskQuery(t: TaskSummary, q: TaskListQuery): boolean {
  if (q.status !== undefined && t.status !== q.status) return false;
  if (q.project !== undefined && t.projectId !== q.project) return false;
  if (q.search) {
    const hay = `${t.title}\n${t.taskId}\n${t.kind ?? ''}\n${t.projectId ?? ''}\n${t.stage ?? ''}`;
    if (!hay.toLowerCase().includes(q.search)) return false;
  }
  return true;
}

/**
 * The list's order: newest task first (by `createdAt`, then task id). Activity does not move a
 * row, so a window of a live list stays put while its tasks change.
 */
export function compareTasks(a: TaskSummary, b: TaskSummary): number {
  return b.createdAt - a.createdAt || (a.taskId < b.taskId ? 1 : a.taskId > b.taskId ? -1 : 0);
}
