/** A chat message a watcher sent into a running task (seed 003's chat). */
export interface ChatMessage {
  messageId: string;
  text: string;
  /** Who sent it, as the gateway knows them. */
  from?: string;
}

export type MessageHandler = (message: ChatMessage) => void | Promise<void>;

// Messages wait here until someone listens; past this many the oldest go, so a task that never
// reads its chat cannot grow without bound.
const MAX_BUFFERED = 1_000;

/**
 * A task's incoming chat, in the order the gateway delivered it. Messages that arrive before any
 * handler are kept and handed to the first one, so starting to listen late loses nothing.
 */
export class Inbox {
  private readonly buffer: ChatMessage[] = [];
  private readonly handlers = new Set<MessageHandler>();
  private readonly ends = new Set<() => void>();
  private closed = false;

  constructor(private readonly onHandlerError: (error: unknown) => void) {}

  push(message: ChatMessage): void {
    if (this.closed) return;
    if (this.handlers.size === 0) {
      this.buffer.push(message);
      if (this.buffer.length > MAX_BUFFERED) this.buffer.shift();
      return;
    }
    for (const handler of this.handlers) this.call(handler, message);
  }

  on(handler: MessageHandler): () => void {
    this.handlers.add(handler);
    for (const message of this.buffer.splice(0)) this.call(handler, message);
    return () => this.handlers.delete(handler);
  }

  /** The messages as an async iterator; it ends when the task ends. */
  async *iterate(): AsyncGenerator<ChatMessage, void, undefined> {
    const queue: ChatMessage[] = [];
    let wake: (() => void) | undefined;
    const off = this.on((m) => {
      queue.push(m);
      wake?.();
    });
    const end = () => wake?.();
    this.ends.add(end);
    try {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      off();
      this.ends.delete(end);
    }
  }

  /** The task ended: iterators finish once they have yielded what they hold. */
  close(): void {
    this.closed = true;
    for (const end of this.ends) end();
  }

  private call(handler: MessageHandler, message: ChatMessage): void {
    try {
      const result = handler(message);
      if (result instanceof Promise) result.catch(this.onHandlerError);
    } catch (err) {
      this.onHandlerError(err);
    }
  }
}
