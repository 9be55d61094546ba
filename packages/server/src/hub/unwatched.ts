/**
 * Streams whose last subscriber left within the last `graceMs`: the hub keeps their newest events
 * in memory a while longer, for the subscribers that come back (a reconnect, a deploy), and stops
 * for streams nobody is coming back to. Expiry is O(1) amortized: a queue in the order streams
 * were left, checked from its head whenever a stream is left.
 */
export class UnwatchedStreams {
  private readonly since = new Map<string, number>();
  private queue: { stream: string; at: number }[] = [];
  private head = 0;

  constructor(
    private readonly graceMs: number,
    /** Called for a stream whose grace ran out with nobody back. */
    private readonly onExpire: (stream: string) => void,
  ) {}

  /** The stream's last subscriber left at `now`. */
  left(stream: string, now: number): void {
    this.since.set(stream, now);
    this.queue.push({ stream, at: now });
    this.expire(now);
  }

  /** A subscriber arrived: the stream is watched again. */
  watched(stream: string): void {
    this.since.delete(stream);
  }

  /** Whether the stream was left no longer than the grace ago. */
  recent(stream: string, now: number): boolean {
    const at = this.since.get(stream);
    return at !== undefined && now - at <= this.graceMs;
  }

  get size(): number {
    return this.since.size;
  }

  clear(): void {
    this.since.clear();
    this.queue = [];
    this.head = 0;
  }

  private expire(now: number): void {
    for (let entry = this.queue[this.head]; entry && now - entry.at > this.graceMs;) {
      this.head++;
      // A stream left again later has a newer entry further on; a watched one has none at all.
      if (this.since.get(entry.stream) === entry.at) {
        this.since.delete(entry.stream);
        this.onExpire(entry.stream);
      }
      entry = this.queue[this.head];
    }
    if (this.head * 2 >= this.queue.length && this.head > 0) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
