/**
 * Which questions are closed, and when open ones time out. The snapshot says whether a question is
 * open, but only once its `question:answered` is stored; two answers arriving together would both
 * see it open. Closing a question here is synchronous, so exactly one of them wins.
 */
export class QuestionBook {
  private readonly closedKeys = new Map<string, true>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly byStream = new Map<string, Set<string>>();

  constructor(
    private readonly onTimeout: (stream: string, questionId: string) => void,
    private readonly maxRemembered = 10_000,
  ) {}

  isClosed(stream: string, questionId: string): boolean {
    return this.closedKeys.has(key(stream, questionId));
  }

  /** Closes the question; false when it already was (someone else won). */
  close(stream: string, questionId: string): boolean {
    const k = key(stream, questionId);
    this.unwatch(stream, k);
    if (this.closedKeys.has(k)) return false;
    this.closedKeys.set(k, true);
    if (this.closedKeys.size > this.maxRemembered) {
      const oldest = this.closedKeys.keys().next().value;
      if (oldest !== undefined) this.closedKeys.delete(oldest);
    }
    return true;
  }

  /** Undoes `close` when recording the answer failed, so the question can still be answered. */
  reopen(stream: string, questionId: string): void {
    this.closedKeys.delete(key(stream, questionId));
  }

  /** Whether a question of the stream is waiting to time out. */
  watches(stream: string): boolean {
    return this.byStream.has(stream);
  }

  /** Times the question out at `deadline` (ms since the epoch) unless it closes first. */
  watch(stream: string, questionId: string, deadline: number): void {
    const k = key(stream, questionId);
    if (this.closedKeys.has(k) || this.timers.has(k)) return;
    const timer = setTimeout(
      () => {
        this.unwatch(stream, k);
        this.onTimeout(stream, questionId);
      },
      Math.max(0, deadline - Date.now()),
    );
    timer.unref();
    this.timers.set(k, timer);
    let keys = this.byStream.get(stream);
    if (!keys) this.byStream.set(stream, (keys = new Set()));
    keys.add(k);
  }

  /** The task ended: its questions can no longer be answered or time out. */
  endStream(stream: string): void {
    for (const k of [...(this.byStream.get(stream) ?? [])]) {
      this.unwatch(stream, k);
      this.closedKeys.set(k, true);
    }
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.byStream.clear();
  }

  private unwatch(stream: string, k: string): void {
    const timer = this.timers.get(k);
    if (timer) clearTimeout(timer);
    this.timers.delete(k);
    const keys = this.byStream.get(stream);
    keys?.delete(k);
    if (keys?.size === 0) this.byStream.delete(stream);
  }
}

function key(stream: string, questionId: string): string {
  return `${stream}\u0000${questionId}`;
}
