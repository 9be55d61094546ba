import type { AnyEnvelope } from '@agentwire/protocol';
import type { Subscription } from '@agentwire/client';
import { readRange, type FetchHistory } from './history.js';
import { toTerminalLine, type TerminalLine } from './terminal-line.js';

const FLUSH_MS = 50;

export interface TerminalStoreOptions {
  fetchHistory: FetchHistory;
  /** Lines kept in memory; beyond it the oldest go (and can be loaded again). Default 50,000. */
  cap?: number;
  /** Lines of history loaded when the terminal opens. Default 2,000. */
  initial?: number;
  /** Lines per "load older". Default 5,000. */
  page?: number;
}

export interface TerminalSnapshot {
  /** Shown lines, oldest first (before filtering). */
  lines: readonly TerminalLine[];
  /** Lines that arrived while paused, shown on resume. */
  waiting: number;
  paused: boolean;
  /** Older history exists that is not in memory. */
  hasOlder: boolean;
  loading: boolean;
  error: string | undefined;
  /** Events the subscription delivered twice (by seq); the SDK promises 0, the terminal checks. */
  duplicates: number;
}

/**
 * Everything the live terminal shows for one stream: the tail of the history, read over HTTP up to
 * where the live subscription starts, then the subscription's events. The subscription's position
 * when the store attaches is the seam: history covers `seq <= position`, live events come after it,
 * so the terminal has each event exactly once. Pausing buffers; the memory cap drops the oldest.
 */
export class TerminalStore {
  readonly #stream: string;
  readonly #opts: Required<TerminalStoreOptions>;
  #lines: TerminalLine[] = [];
  #waiting: TerminalLine[] = [];
  /** Live events that arrived before the history below them was read. */
  #early: TerminalLine[] = [];
  #backfilled = false;
  #paused = false;
  #first = 1;
  #loading = false;
  #error: string | undefined;
  #duplicates = 0;
  #lastSeq = 0;
  #generation = 0;
  #snapshot: TerminalSnapshot;
  readonly #listeners = new Set<() => void>();
  #detach: (() => void) | undefined;
  #pending: TerminalLine[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(stream: string, options: TerminalStoreOptions) {
    this.#stream = stream;
    this.#opts = { cap: 50_000, initial: 2_000, page: 5_000, ...options };
    this.#snapshot = this.#build();
  }

  // ---- for React's useSyncExternalStore --------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): TerminalSnapshot => this.#snapshot;

  // ---- wiring ----------------------------------------------------------------------------------

  /** Follows `sub` from its current position, reading the history before it. */
  attach(sub: Subscription): void {
    this.#detach?.();
    const offEvent = sub.onEvent((e) => this.#live(e));
    const offReset = sub.on('reset', () => {
      // The history we hold belongs to another epoch (or is too old to continue): start over.
      this.#restart(sub);
    });
    this.#detach = () => {
      offEvent();
      offReset();
    };
    this.#restart(sub);
  }

  detach(): void {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#pending = [];
    this.#detach?.();
    this.#detach = undefined;
    this.#generation++;
  }

  setPaused(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    if (!paused && this.#waiting.length) {
      this.#append(this.#waiting);
      this.#waiting = [];
    }
    this.#emit();
  }

  /** Reads the page of history before the oldest line in memory. */
  async loadOlder(): Promise<void> {
    const oldest = this.#lines[0]?.seq;
    if (oldest === undefined || this.#loading || oldest <= this.#first) return;
    const generation = this.#generation;
    this.#loading = true;
    this.#emit();
    try {
      const after = Math.max(this.#first - 1, oldest - 1 - this.#opts.page);
      const { events, first } = await readRange(this.#opts.fetchHistory, this.#stream, after, oldest - 1);
      if (generation !== this.#generation) return;
      this.#first = first;
      this.#lines = [...events.map(toTerminalLine), ...this.#lines];
    } catch (err) {
      if (generation === this.#generation) this.#error = String((err as Error).message ?? err);
    } finally {
      if (generation === this.#generation) {
        this.#loading = false;
        this.#emit();
      }
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  #restart(sub: Subscription): void {
    const generation = ++this.#generation;
    this.#lines = [];
    this.#waiting = [];
    this.#early = [];
    this.#pending = [];
    this.#backfilled = false;
    this.#lastSeq = 0;
    this.#error = undefined;
    this.#loading = true;
    this.#emit();
    const at = sub.position;
    const start = at ? Promise.resolve(at) : sub.ready;
    start
      .then(async () => {
        // Read now, not at attach: between the two the subscription may have applied more events,
        // and those went to #live already (the listener was attached first).
        const seam = this.#early[0] ? this.#early[0].firstSeq - 1 : (sub.position?.seq ?? 0);
        const from = Math.max(0, seam - this.#opts.initial);
        const { events, first } = await readRange(this.#opts.fetchHistory, this.#stream, from, seam);
        if (generation !== this.#generation) return;
        this.#first = first;
        this.#backfilled = true;
        const early = this.#early;
        this.#early = [];
        this.#append(events.map(toTerminalLine));
        this.#accept(early);
      })
      .catch((err: unknown) => {
        if (generation !== this.#generation) return;
        this.#error = `Could not read the history: ${String((err as Error)?.message ?? err)}`;
        this.#backfilled = true;
        const early = this.#early;
        this.#early = [];
        this.#accept(early);
      })
      .finally(() => {
        if (generation !== this.#generation) return;
        this.#loading = false;
        this.#emit();
      });
  }

  #live(e: AnyEnvelope): void {
    const line = toTerminalLine(e);
    if (!this.#backfilled) {
      this.#early.push(line);
      return;
    }
    // A burst (a streamed answer, the catch-up after a reconnect) is applied once per frame: one
    // copy of the line array and one render, not one per event.
    this.#pending.push(line);
    if (this.#flushTimer === undefined) this.#flushTimer = setTimeout(this.#flush, FLUSH_MS);
  }

  readonly #flush = (): void => {
    this.#flushTimer = undefined;
    const lines = this.#pending;
    this.#pending = [];
    this.#accept(lines);
    this.#emit();
  };

  #accept(lines: TerminalLine[]): void {
    if (this.#paused) this.#waiting.push(...lines);
    else this.#append(lines);
  }

  #append(lines: readonly TerminalLine[]): void {
    if (lines.length === 0) return;
    const next = this.#lines.slice();
    for (const line of lines) {
      if (line.seq <= this.#lastSeq) {
        this.#duplicates++;
        continue;
      }
      this.#lastSeq = line.seq;
      next.push(line);
    }
    // Trim in chunks, not per line: dropping one line off the front of 50,000 on every event
    // would copy the whole array each time.
    const cap = this.#opts.cap;
    this.#lines = next.length > cap * 1.1 ? next.slice(next.length - cap) : next;
  }

  #build(): TerminalSnapshot {
    const oldest = this.#lines[0]?.seq;
    return {
      lines: this.#lines,
      waiting: this.#waiting.length,
      paused: this.#paused,
      hasOlder: oldest !== undefined && oldest > this.#first,
      loading: this.#loading,
      error: this.#error,
      duplicates: this.#duplicates,
    };
  }

  #emit(): void {
    this.#snapshot = this.#build();
    for (const listener of [...this.#listeners]) listener();
  }
}
