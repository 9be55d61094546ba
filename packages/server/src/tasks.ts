import { AgentwireError, taskStream, type TaskState, type TaskSummary } from '@agentwire/protocol';
import type { SnapshotService } from './snapshots.js';

export type { TaskSummary };

export async function getTask(
  snapshots: SnapshotService,
  taskId: string,
): Promise<{ seq: number; state: TaskState }> {
  const snap = await snapshots.get(taskStream(taskId));
  if (!snap.state) throw new AgentwireError('not_found', `No task ${JSON.stringify(taskId)}.`);
  return { seq: snap.seq, state: snap.state };
}
