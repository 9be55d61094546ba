import type { AnyEnvelope } from '@agentwire/protocol';

export interface RecentEventsOptions {
  /** Newest events kept per stream. */
  perStream: number;
  /** Events kept across all streams; the streams appended to least recently go first. */
  total: number;
}

export const defaultRecentEvents: RecentEventsOptions = { perStream: 1000, total: 50_000 };

interface Tail {
  stream: string;
  epoch: string;
  /** Consecutive events of one epoch, oldest first; the live ones start at `start`. */
  events: AnyEnvelope[];
  start: number;
  /** Neighbours in least-recently-appended order. */
  older: Tail | undefined;
  newer: Tail | undefined;
}

/**
 * The newest committed events of each stream, as the hub heard them, so a subscriber resuming a
 * little behind (a reconnect, thousands at once after a deploy) is caught up from memory instead of
 * reading and parsing the log. Only a gapless run is kept: a gap or a new epoch starts it over,
 * so whatever it returns is exactly what the log holds. Every operation is O(1) per event, however
 * many streams there are.
 */
export class RecentEvents {
  private readonly tails = new Map<string, Tail>();
  private oldest: Tail | undefined;
  private newest: Tail | undefined;
  private size = 0;

  constructor(private readonly options: RecentEventsOptions = defaultRecentEvents) {}

  get eventCount(): number {
    return this.size;
  }

  /** Called with every committed batch, in seq order. */
  add(stream: string, events: readonly AnyEnvelope[]): void {
    const first = events[0];
    if (!first || this.options.perStream <= 0 || this.options.total <= 0) return;
    let tail = this.tails.get(stream);
    const last = tail?.events[tail.events.length - 1];
    if (tail && (!last || tail.epoch !== first.epoch || last.seq + 1 !== first.seq)) {
      this.remove(tail);
      tail = undefined;
    }
    if (!tail) {
      tail = { stream, epoch: first.epoch, events: [], start: 0, older: undefined, newer: undefined };
      this.tails.set(stream, tail);
    } else {
      this.unlink(tail);
    }
    this.link(tail);
    for (const e of events) tail.events.push(e);
    this.size += events.length;
    const live = tail.events.length - tail.start;
    if (live > this.options.perStream) this.shift(tail, live - this.options.perStream);
    while (this.size > this.options.total && this.oldest && this.oldest !== tail) this.remove(this.oldest);
    if (this.size > this.options.total) this.shift(tail, this.size - this.options.total);
  }

  /**
   * The events after `afterSeq`, at most `limit`, when this holds every one of them from
   * `afterSeq + 1` on in `epoch`; undefined when the log must be read instead.
   */
  read(stream: string, epoch: string, afterSeq: number, limit: number): AnyEnvelope[] | undefined {
    const tail = this.tails.get(stream);
    if (!tail || tail.epoch !== epoch) return undefined;
    const oldest = tail.events[tail.start];
    if (!oldest || oldest.seq > afterSeq + 1) return undefined;
    const from = tail.start + Math.max(0, afterSeq + 1 - oldest.seq);
    return tail.events.slice(from, from + limit);
  }

  /** Drops what is kept of `stream`; the next batch starts its run over. */
  forget(stream: string): void {
    const tail = this.tails.get(stream);
    if (tail) this.remove(tail);
  }

  clear(): void {
    this.tails.clear();
    this.oldest = this.newest = undefined;
    this.size = 0;
  }

  private remove(tail: Tail): void {
    this.size -= tail.events.length - tail.start;
    this.tails.delete(tail.stream);
    this.unlink(tail);
  }

  private link(tail: Tail): void {
    tail.older = this.newest;
    tail.newer = undefined;
    if (this.newest) this.newest.newer = tail;
    else this.oldest = tail;
    this.newest = tail;
  }

  private unlink(tail: Tail): void {
    if (tail.older) tail.older.newer = tail.newer;
    else this.oldest = tail.newer;
    if (tail.newer) tail.newer.older = tail.older;
    else this.newest = tail.older;
    tail.older = tail.newer = undefined;
  }

  /** Forgets the oldest `n` events; the array is compacted only once half of it is dead. */
  private shift(tail: Tail, n: number): void {
    tail.start += n;
    this.size -= n;
    if (tail.start * 2 >= tail.events.length) {
      tail.events = tail.events.slice(tail.start);
      tail.start = 0;
    }
  }
}
