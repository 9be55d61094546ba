import type { TaskState } from '@agentwire/protocol';

export interface TaskTiming {
  /** Time the task has been running (or ran), in ms; undefined before it started. */
  elapsedMs: number | undefined;
  /** Estimated time left, in ms; undefined when nothing allows a guess or the task has ended. */
  remainingMs: number | undefined;
  percent: number | undefined;
}

/** Below this, a rate extrapolated from the percentage is mostly noise. */
const MIN_PERCENT = 5;

/**
 * Elapsed and remaining time: extrapolated from the progress so far (elapsed / percent), or from
 * the producer's own estimate (`estimatedMs`) while progress is too small to tell.
 */
export function taskTiming(
  state: Pick<TaskState, 'startedAt' | 'createdAt' | 'endedAt' | 'estimatedMs' | 'progress' | 'status'>,
  now: number,
): TaskTiming {
  const start = state.startedAt ?? state.createdAt;
  const end = state.endedAt ?? now;
  const elapsedMs = Math.max(0, end - start);
  const percent = state.progress?.percent;
  if (
    state.endedAt !== undefined ||
    state.status === 'completed' ||
    state.status === 'failed' ||
    state.status === 'cancelled'
  ) {
    return { elapsedMs, remainingMs: undefined, percent };
  }
  let remainingMs: number | undefined;
  // Measured progress beats a guess made before the work started; the producer's estimate only
  // speaks while there is too little progress to extrapolate from.
  if (percent !== undefined && percent >= MIN_PERCENT && percent < 100)
    remainingMs = (elapsedMs * (100 - percent)) / percent;
  else if (state.estimatedMs !== undefined && state.estimatedMs > elapsedMs)
    remainingMs = state.estimatedMs - elapsedMs;
  return { elapsedMs, remainingMs, percent };
}
