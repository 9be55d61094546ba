import { taskIdOf, type AnyEnvelope } from '@agentwire/protocol';
import type { LogEngine } from '../log/engine.js';
import type { SnapshotService } from '../snapshots.js';

/** Task streams whose owner is remembered; the least recently used are forgotten (and re-read). */
const MAX_ENTRIES = 100_000;

/**
 * Which project each task belongs to: the `projectId` of its latest `task:start`, exactly what the
 * reducer keeps. Learned as events commit (this listens to the log before the hub does, so a
 * dashboard's pattern feed knows a task's owner by the time its first event is fanned out) and, for
 * tasks started before this process, from their snapshot.
 */
export class Ownership {
  /** Stream → project id, or null for a task without one. */
  private readonly owners = new Map<string, string | null>();
  private readonly unlisten: () => void;

  constructor(
    engine: LogEngine,
    private readonly snapshots: SnapshotService,
  ) {
    this.unlisten = engine.onAppend((stream, events) => this.observe(stream, events));
  }

  /** The owner if known right now: a project id, null for none, undefined when not yet known. */
  peek(stream: string): string | null | undefined {
    return this.owners.get(stream);
  }

  /** The owner of a task stream, read from its snapshot when not known; undefined for no such task. */
  async owner(stream: string): Promise<string | null | undefined> {
    const known = this.owners.get(stream);
    if (known !== undefined || taskIdOf(stream) === undefined) return known;
    const snap = await this.snapshots.get(stream);
    if (!snap.state) return undefined;
    // A task:start that committed while we read has already set the newer value.
    if (!this.owners.has(stream)) this.remember(stream, snap.state.projectId ?? null);
    return this.owners.get(stream);
  }

  close(): void {
    this.unlisten();
  }

  private observe(stream: string, events: readonly AnyEnvelope[]): void {
    if (taskIdOf(stream) === undefined) return;
    for (const e of events) {
      if (e.type !== 'task:start') continue;
      const projectId = (e.data as { projectId?: unknown }).projectId;
      this.remember(stream, typeof projectId === 'string' ? projectId : null);
    }
  }

  private remember(stream: string, owner: string | null): void {
    this.owners.delete(stream);
    this.owners.set(stream, owner);
    if (this.owners.size > MAX_ENTRIES) {
      const oldest = this.owners.keys().next().value;
      if (oldest !== undefined) this.owners.delete(oldest);
    }
  }
}
