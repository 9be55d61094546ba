import { AgentwireError } from '@agentwire/protocol';
import type { ProducerSession } from './session.js';

/** The task a start creates: a worker gets it only if its credential may publish its `task:start`. */
export interface NewTask {
  stream: string;
  projectId?: string;
}

/**
 * Chooses the worker for a new task of one kind: among the connected workers whose credential
 * may publish to the task's project, the least-loaded that has room, and among equally loaded
 * ones the next in turn, so a burst of starts spreads evenly even before any of them has shown
 * up as load.
 */
export class WorkerPicker {
  private readonly turn = new Map<string, number>();

  pick(kind: string, task: NewTask, sessions: Iterable<ProducerSession>): ProducerSession {
    const all = [...sessions].filter((s) => s.kinds.includes(kind));
    const allowed = all.filter((s) => s.mayStart(task.stream, task.projectId));
    const ready = allowed.filter((s) => s.accepts(kind)).sort((a, b) => (a.id < b.id ? -1 : 1));
    if (ready.length === 0) throw noWorker(kind, task, all, allowed);
    const least = Math.min(...ready.map((s) => s.load));
    const candidates = ready.filter((s) => s.load === least);
    const n = this.turn.get(kind) ?? 0;
    this.turn.set(kind, n + 1);
    return candidates[n % candidates.length]!;
  }
}

function noWorker(
  kind: string,
  task: NewTask,
  registered: ProducerSession[],
  allowed: ProducerSession[],
): AgentwireError {
  const connected = allowed.filter((s) => s.connected);
  const where =
    task.projectId === undefined ? 'without a project' : `in project ${JSON.stringify(task.projectId)}`;
  const why =
    registered.length === 0
      ? 'no worker is registered for it'
      : allowed.length === 0
        ? `no worker for it may start tasks ${where}`
        : connected.length === 0
          ? `its ${allowed.length} worker(s) are disconnected`
          : `all ${connected.length} connected worker(s) are at capacity`;
  return new AgentwireError('no_worker', `Cannot start a task of kind ${JSON.stringify(kind)}: ${why}.`, {
    kind,
    workers: allowed.length,
    connected: connected.length,
  });
}
