import { taskIdOf } from '@agentwire/protocol';
import type { LogEngine, RetentionPolicy } from './log/engine.js';
import type { SnapshotService } from './snapshots.js';

/**
 * Drops events past the retention policy. Before a task stream loses events, the state they fold
 * into is saved as a checkpoint, so snapshots stay equal to the reducer over the full history.
 */
export async function applyRetention(
  engine: LogEngine,
  snapshots: SnapshotService,
  policy: RetentionPolicy,
  now = Date.now(),
): Promise<{ streams: number; trimmed: number }> {
  if (!policy.maxEvents && !policy.maxAgeMs) return { streams: 0, trimmed: 0 };
  const plan = await engine.retentionPlan(policy, now);
  let trimmed = 0;
  for (const { stream, throughSeq } of plan) {
    if (taskIdOf(stream) !== undefined) {
      const state = await snapshots.stateThrough(stream, throughSeq);
      if (state) await engine.putCheckpoint(stream, { seq: state.seq, state });
    }
    trimmed += await engine.trim(stream, throughSeq);
  }
  return { streams: plan.length, trimmed };
}
