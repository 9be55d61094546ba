/** Questions remembered at most; past it the oldest are forgotten (the gauge then undercounts). */
const MAX_OPEN = 100_000;
const ENDS = new Set(['task:complete', 'task:failed', 'task:cancelled']);

/**
 * Open questions, followed from the events the log appends: asked opens one, answered (or its
 * task ending) closes it. Kept here rather than read from snapshots so a scrape costs nothing.
 */
export class OpenQuestions {
  private readonly open = new Map<string, Set<string>>();
  #count = 0;

  get count(): number {
    return this.#count;
  }

  apply(stream: string, type: string, data: unknown): void {
    if (type === 'question:asked' || type === 'question:answered') {
      const id = (data as { questionId?: unknown } | null)?.questionId;
      if (typeof id !== 'string') return;
      let ids = this.open.get(stream);
      if (type === 'question:asked') {
        if (this.#count >= MAX_OPEN) this.forgetOldest();
        if (!ids) this.open.set(stream, (ids = new Set()));
        if (!ids.has(id)) this.#count++;
        ids.add(id);
      } else if (ids?.delete(id)) {
        this.#count--;
        if (ids.size === 0) this.open.delete(stream);
      }
    } else if (ENDS.has(type)) {
      const ids = this.open.get(stream);
      if (!ids) return;
      this.#count -= ids.size;
      this.open.delete(stream);
    }
  }

  /** Events of the stream went by unseen: its questions leave the gauge rather than stay open in it. */
  forget(stream: string): void {
    const ids = this.open.get(stream);
    if (!ids) return;
    this.#count -= ids.size;
    this.open.delete(stream);
  }

  private forgetOldest(): void {
    const [stream, ids] = this.open.entries().next().value ?? [];
    if (stream === undefined || !ids) return;
    this.#count -= ids.size;
    this.open.delete(stream);
  }
}
