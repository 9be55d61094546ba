import { AgentwireError, taskStream, type TaskAnswer } from '@agentwire/protocol';
import type { SnapshotService } from './snapshots.js';

/** `GET /v1/tasks/{taskId}`: the task's reduced state, `not_found` for a task never started. */
export async function getTask(snapshots: SnapshotService, taskId: string): Promise<TaskAnswer> {
  const snap = await snapshots.get(taskStream(taskId));
  if (!snap.state) throw new AgentwireError('not_found', `No task ${JSON.stringify(taskId)}.`);
  return { seq: snap.seq, state: snap.state };
}
