import { AgentwireError, taskIdOf, type TaskState, type TaskStatus } from '@agentwire/protocol';
import type { LogEngine } from './log/engine.js';
import type { SnapshotService } from './snapshots.js';

/** One row of the task list: what a dashboard needs without the whole state. */
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

export function summarize(state: TaskState): TaskSummary {
  const agents = Object.values(state.agents);
  const summary: TaskSummary = {
    taskId: state.taskId,
    stream: state.stream,
    title: state.title,
    status: state.status,
    agents: agents.length,
    runningAgents: agents.filter((a) => a.status === 'running').length,
    tools: state.toolOrder.length,
    openQuestions: Object.values(state.questions).filter((q) => q.status === 'open').length,
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

export interface TaskQuery {
  status?: string;
  projectId?: string;
  limit: number;
  /** Rows the caller may see (docs/security.md); the others are skipped, not counted. */
  visible?: (summary: TaskSummary) => boolean;
}

/** The task list, newest activity first, built from the log's stream index and the snapshots. */
export async function listTasks(
  engine: LogEngine,
  snapshots: SnapshotService,
  query: TaskQuery,
): Promise<TaskSummary[]> {
  const filtered = query.status !== undefined || query.projectId !== undefined || query.visible !== undefined;
  const streams = await engine.listStreams({
    prefix: 'task:',
    limit: filtered ? Math.max(query.limit * 5, 500) : query.limit,
  });
  const out: TaskSummary[] = [];
  for (const info of streams) {
    if (taskIdOf(info.stream) === undefined) continue;
    const snap = await snapshots.get(info.stream);
    if (!snap.state) continue;
    if (query.status !== undefined && snap.state.status !== query.status) continue;
    if (query.projectId !== undefined && snap.state.projectId !== query.projectId) continue;
    const summary = summarize(snap.state);
    if (query.visible && !query.visible(summary)) continue;
    out.push(summary);
    if (out.length >= query.limit) break;
  }
  return out;
}

export async function getTask(
  snapshots: SnapshotService,
  taskId: string,
): Promise<{ seq: number; state: TaskState }> {
  const snap = await snapshots.get(`task:${taskId}`);
  if (!snap.state) throw new AgentwireError('not_found', `No task ${JSON.stringify(taskId)}.`);
  return { seq: snap.seq, state: snap.state };
}
