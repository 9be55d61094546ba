/**
 * A push-fed async iterable of text chunks: the model's deltas arrive as events, while the agent
 * SDK's `streamMessage` pulls chunks (and takes care of ordering, backpressure and cancel).
 */
export class TextQueue implements AsyncIterable<string> {
  private readonly chunks: string[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(chunk: string): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      const next = this.chunks.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
