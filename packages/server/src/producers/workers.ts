import { AgentwireError } from '@agentwire/protocol';
import type { ProducerSession } from './session.js';

/**
 * Chooses the worker for a new task of one kind: the least-loaded connected worker that has room,
 * and among equally loaded ones the next in turn, so a burst of starts spreads evenly even before
 * any of them has shown up as load.
 */
export class WorkerPicker {
  private readonly turn = new Map<string, number>();

  pick(kind: string, sessions: Iterable<ProducerSession>): ProducerSession {
    const all = [...sessions].filter((s) => s.kinds.includes(kind));
    const ready = all.filter((s) => s.accepts(kind)).sort((a, b) => (a.id < b.id ? -1 : 1));
    if (ready.length === 0) throw noWorker(kind, all);
    const least = Math.min(...ready.map((s) => s.load));
    const candidates = ready.filter((s) => s.load === least);
    const n = this.turn.get(kind) ?? 0;
    this.turn.set(kind, n + 1);
    return candidates[n % candidates.length]!;
  }
}

function noWorker(kind: string, registered: ProducerSession[]): AgentwireError {
  const connected = registered.filter((s) => s.connected);
  const why =
    registered.length === 0
      ? 'no worker is registered for it'
      : connected.length === 0
        ? `its ${registered.length} worker(s) are disconnected`
        : `all ${connected.length} connected worker(s) are at capacity`;
  return new AgentwireError('no_worker', `Cannot start a task of kind ${JSON.stringify(kind)}: ${why}.`, {
    kind,
    workers: registered.length,
    connected: connected.length,
  });
}
