import { taskIdOf, type AnyEnvelope } from '@agentwire/protocol';
import type { LogEngine } from '../log/engine.js';
import type { SnapshotService } from '../snapshots.js';

/**
 * The project a task belongs to once `e` is stored: a `task:start` sets it to its `projectId` (null
 * for none); any other event leaves it as it was (undefined). This is the one rule of project
 * membership: the owner cache below, the hub's re-check of live subscriptions when a task moves,
 * and history reads all apply it.
 */
export function projectSetBy(e: { type: string; data?: unknown }): string | null | undefined {
  if (e.type !== 'task:start') return undefined;
  const projectId = (e.data as { projectId?: unknown } | undefined)?.projectId;
  return typeof projectId === 'string' ? projectId : null;
}

/** Task streams whose owner is remembered; the least recently used are forgotten (and re-read). */
const MAX_ENTRIES = 100_000;
/** `task:start` events remembered per task, newest last, to answer `ownerAt` without reading. */
const MAX_CHANGES = 4;

/** `ownerAtIfKnown`'s answer when only reading the log can tell. */
export const OWNER_UNKNOWN: unique symbol = Symbol('owner unknown');

/** What is known of a task's project, and as of which event. */
interface Known {
  project: string | null;
  epoch: string;
  seq: number;
}

/**
 * Which project each task belongs to: the `projectId` of its latest `task:start`, exactly what the
 * reducer keeps. Learned as events commit (this listens to the log before the hub does, so a
 * dashboard's pattern feed knows a task's owner by the time its first event is fanned out) and, for
 * tasks started before this process, from their snapshot.
 */
export class TaskProjects {
  private readonly owners = new Map<string, Known>();
  /** Stream → the `task:start`s seen since this process started: [seq, project id or null]. */
  private readonly changes = new Map<string, Array<[number, string | null]>>();
  /** Histories being read for `owner`, so concurrent lookups of one task read it once. */
  private readonly reading = new Map<string, Promise<string | null | undefined>>();
  private readonly unlisten: () => void;

  constructor(
    engine: LogEngine,
    private readonly snapshots: SnapshotService,
  ) {
    this.unlisten = engine.onAppend((stream, events) => this.observe(stream, events), {
      wants: () => false,
      // A move may have gone by unseen: the owner is read from the snapshot again when asked.
      skipped: (stream) => {
        this.owners.delete(stream);
        this.changes.delete(stream);
      },
    });
  }

  /** The owner if known right now: a project id, null for none, undefined when not yet known. */
  peek(stream: string): string | null | undefined {
    return this.owners.get(stream)?.project;
  }

  /** The owner of a task stream, read from its history when not known; undefined for no such task. */
  owner(stream: string): Promise<string | null | undefined> {
    const known = this.owners.get(stream);
    if (known !== undefined || taskIdOf(stream) === undefined) return Promise.resolve(known?.project);
    let reading = this.reading.get(stream);
    if (!reading) {
      reading = this.read(stream).finally(() => this.reading.delete(stream));
      this.reading.set(stream, reading);
    }
    return reading;
  }

  /**
   * Folds the task's history without entering it in the snapshot cache: a cached snapshot is
   * folded again on every event of its task, which only pays for tasks someone asks a snapshot of
   * (late joiners), not for every task whose owner is looked up once.
   */
  private async read(stream: string): Promise<string | null | undefined> {
    const state = await this.snapshots.stateThrough(stream, Number.MAX_SAFE_INTEGER);
    if (!state) return undefined;
    // A task:start that committed while we read has already set the newer value.
    if (!this.owners.has(stream))
      this.remember(stream, { project: state.projectId ?? null, epoch: state.epoch, seq: state.seq });
    return this.owners.get(stream)?.project;
  }

  /**
   * How many of `events`, a run of `stream` about to reach a reader, that reader may see, where
   * `mayRead(project)` says whether it may read a task of that project. A task's whole history
   * belongs to its current project, so: all of them when the task's project after the run (or a
   * newer one known here) is readable; else those before the run's last moves out of reach, which
   * happened after the reader was let in.
   */
  visibleCount(
    stream: string,
    events: readonly AnyEnvelope[],
    mayRead: (project: string | null) => boolean,
  ): number {
    let last = -1;
    for (let i = events.length - 1; i >= 0 && last < 0; i--)
      if (projectSetBy(events[i]!) !== undefined) last = i;
    if (last < 0) return events.length;
    const run = events[last]!;
    const known = this.owners.get(stream);
    // Known from a later event of the same history (a move after this run): that decides.
    const newer = known !== undefined && known.epoch === run.epoch && known.seq > run.seq;
    const after = newer ? known.project : projectSetBy(run)!;
    if (mayRead(after)) return events.length;
    if (newer && mayRead(projectSetBy(run)!)) return events.length;
    let cut = events.length;
    for (let i = last; i >= 0; i--) {
      const project = projectSetBy(events[i]!);
      if (project === undefined) continue;
      if (mayRead(project)) break;
      cut = i;
    }
    return cut;
  }

  /**
   * The owner as of event `seq` of a task stream (what its snapshot through `seq` says), for the
   * project streams: each of a task's events is copied to the project the task belonged to when
   * that event committed. Answered from the `task:start`s this process saw commit when they tell,
   * else from the snapshot through `seq` (a task that changed projects before this process began).
   */
  async ownerAt(stream: string, seq: number): Promise<string | null | undefined> {
    const known = this.ownerAtIfKnown(stream, seq);
    if (known !== OWNER_UNKNOWN) return known;
    if (!this.changes.has(stream)) return this.owner(stream);
    const state = await this.snapshots.stateThrough(stream, seq);
    return state ? (state.projectId ?? null) : undefined;
  }

  /** `ownerAt` when it can answer without reading the log, else OWNER_UNKNOWN. */
  ownerAtIfKnown(stream: string, seq: number): string | null | undefined | typeof OWNER_UNKNOWN {
    if (taskIdOf(stream) === undefined) return undefined;
    if (seq <= 0) return null;
    const changes = this.changes.get(stream);
    if (!changes) {
      const known = this.owners.get(stream);
      return known === undefined ? OWNER_UNKNOWN : known.project;
    }
    for (let i = changes.length - 1; i >= 0; i--) if (changes[i]![0] <= seq) return changes[i]![1];
    return OWNER_UNKNOWN;
  }

  close(): void {
    this.unlisten();
  }

  private observe(stream: string, events: readonly AnyEnvelope[]): void {
    if (taskIdOf(stream) === undefined) return;
    for (const e of events) {
      const owner = projectSetBy(e);
      if (owner === undefined) continue;
      this.remember(stream, { project: owner, epoch: e.epoch, seq: e.seq });
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

  private remember(stream: string, known: Known): void {
    this.owners.delete(stream);
    this.owners.set(stream, known);
    if (this.owners.size > MAX_ENTRIES) {
      const oldest = this.owners.keys().next().value;
      if (oldest !== undefined) this.owners.delete(oldest);
    }
  }
}
