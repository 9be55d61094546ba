import type { TaskState } from '@agentwire/protocol';
import type { SnapshotService } from '../../snapshots.js';
import type { TaskIndex } from '../../task-list/task-index.js';

/** Most live tasks a project terminal draws when it connects. */
const MAX_LIVE_TASKS = 50;

/** The current state of each task stream, for the messages that name agents and stages. */
export async function statesOf(
  snapshots: SnapshotService,
  streams: Iterable<string>,
): Promise<Map<string, TaskState | null>> {
  const out = new Map<string, TaskState | null>();
  for (const stream of streams) out.set(stream, (await snapshots.get(stream)).state);
  return out;
}

/** The project's running and pending tasks, newest first, as a connecting terminal draws them. */
export async function liveProjectStates(
  taskIndex: TaskIndex,
  snapshots: SnapshotService,
  projectId: string,
  max = MAX_LIVE_TASKS,
): Promise<TaskState[]> {
  await taskIndex.ready();
  const live = taskIndex.query(
    { project: projectId },
    0,
    max,
    (row) => row.status === 'running' || row.status === 'pending',
  ).rows;
  const states: TaskState[] = [];
  for (const row of live) {
    const { state } = await snapshots.get(row.stream);
    if (state && state.projectId === projectId) states.push(state);
  }
  return states;
}
