import { taskIdOf, type AnyEnvelope } from '@agentwire/protocol';
import type { LogEngine } from '../log/engine.js';
import type { SnapshotService } from '../snapshots.js';

/** Task streams whose owner is remembered; the least recently used are forgotten (and re-read). */
const MAX_ENTRIES = 100_000;
/** `task:start` events remembered per task, newest last, to answer `ownerAt` without reading. */
const MAX_CHANGES = 4;

/**
 * Which project each task belongs to: the `projectId` of its latest `task:start`, exactly what the
 * reducer keeps. Learned as events commit (this listens to the log before the hub does, so a
 * dashboard's pattern feed knows a task's owner by the time its first event is fanned out) and, for
 * tasks started before this process, from their snapshot.
 */
export class Ownership {
  /** Stream → project id, or null for a task without one. */
  private readonly owners = new Map<string, string | null>();
  /** Stream → the `task:start`s seen since this process started: [seq, project id or null]. */
  private readonly changes = new Map<string, Array<[number, string | null]>>();
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

  /**
   * The owner as of event `seq` of a task stream (what its snapshot through `seq` says), for the
   * project streams: each of a task's events is copied to the project the task belonged to when
   * that event committed. Answered from the `task:start`s this process saw commit when they tell,
   * else from the snapshot through `seq` (a task that changed projects before this process began).
   */
  async ownerAt(stream: string, seq: number): Promise<string | null | undefined> {
    if (taskIdOf(stream) === undefined) return undefined;
    if (seq <= 0) return null;
    const changes = this.changes.get(stream);
    if (!changes) return this.owner(stream);
    for (let i = changes.length - 1; i >= 0; i--) if (changes[i]![0] <= seq) return changes[i]![1];
    const state = await this.snapshots.stateThrough(stream, seq);
    return state ? (state.projectId ?? null) : undefined;
  }

  close(): void {
    this.unlisten();
  }

  private observe(stream: string, events: readonly AnyEnvelope[]): void {
    if (taskIdOf(stream) === undefined) return;
    for (const e of events) {
      if (e.type !== 'task:start') continue;
      const projectId = (e.data as { projectId?: unknown }).projectId;
      const owner = typeof projectId === 'string' ? projectId : null;
      this.remember(stream, owner);
      let changes = this.changes.get(stream);
      if (changes) this.changes.delete(stream);
      else changes = [];
      changes.push([e.seq, owner]);
      if (changes.length > MAX_CHANGES) changes.shift();
      this.changes.set(stream, changes);
      if (this.changes.size > MAX_ENTRIES) {
        const oldest = this.changes.keys().next().value;
        if (oldest !== undefined) this.changes.delete(oldest);
      }
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
