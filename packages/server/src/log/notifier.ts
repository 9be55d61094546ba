import type { AnyEnvelope } from '@agentwire/protocol';
import type { AppendListener } from './engine.js';

/**
 * Delivers commits to listeners and then settles the append, strictly in commit order.
 * A listener may append again; that commit is queued behind the ones still being delivered
 * instead of being delivered re-entrantly, which would let a later seq overtake an earlier one.
 */
export class AppendNotifier {
  /** Replaced, never changed in place: a listener added or removed mid-delivery takes effect next commit. */
  private listeners: readonly AppendListener[] = [];
  private readonly queue: Array<() => void> = [];
  private draining = false;

  constructor(private readonly onListenerError: (err: unknown) => void = reportListenerError) {}

  add(listener: AppendListener): () => void {
    if (!this.listeners.includes(listener)) this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Queues one commit: listeners hear `events` (if any), then `settle` runs. */
  publish(stream: string, events: AnyEnvelope[], settle: () => void): void {
    if (this.draining) {
      this.queue.push(() => this.deliver(stream, events, settle));
      return;
    }
    // Nothing queued: delivered at once, without a closure per commit.
    this.draining = true;
    try {
      this.deliver(stream, events, settle);
      for (let next = this.queue.shift(); next; next = this.queue.shift()) next();
    } finally {
      this.draining = false;
    }
  }

  private deliver(stream: string, events: AnyEnvelope[], settle: () => void): void {
    if (events.length > 0) {
      for (const listener of this.listeners) {
        try {
          listener(stream, events);
        } catch (err) {
          this.onListenerError(err);
        }
      }
    }
    settle();
  }
}

// A throwing listener is a bug in the hub, but the commit already happened: the producer must still
// get its ack and the other listeners their events, so the error is reported rather than rethrown.
function reportListenerError(err: unknown): void {
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.emitWarning(`A log append listener threw: ${detail}`, { code: 'AGENTWIRE_LISTENER_ERROR' });
}
