import type { Outbox } from './outbox.js';

/** One streamed message: `message:start`, any number of `message:delta`, then `message:end`. */
export class MessageHandle {
  /** @internal */
  constructor(
    private readonly outbox: Outbox,
    private readonly stream: string,
    readonly id: string,
  ) {}

  delta(text: string): Promise<number> {
    return this.outbox.publish(this.stream, 'message:delta', { messageId: this.id, delta: text });
  }

  end(): Promise<number> {
    return this.outbox.publish(this.stream, 'message:end', { messageId: this.id });
  }
}
