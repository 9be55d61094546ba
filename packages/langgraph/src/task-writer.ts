import type { TaskHandle } from '@agentwire/agent';
import type { EventData, EventType } from '@agentwire/protocol';

// How many events may wait for the gateway before the adapter stops reading the graph's stream:
// enough to batch a token stream, few enough that a slow gateway slows the graph instead of
// growing memory without bound.
const WINDOW = 64;

/**
 * Publishes a graph run's events into its task, in order, until the run stops: once closed
 * (the task was cancelled, or the run ended) every later event is dropped, so nothing a node
 * still does after a cancel reaches watchers after `task:cancelled`.
 */
export class TaskWriter {
  private readonly inFlight: Promise<number>[] = [];
  private closed = false;

  constructor(private readonly task: TaskHandle) {}

  get isOpen(): boolean {
    return !this.closed && !this.task.signal.aborted;
  }

  /**
   * Queues an event; failures are reported to the producer's `onError` (a refused event must not
   * stop the graph), so the returned promise is only for pacing.
   */
  emit<T extends EventType>(type: T, data: EventData<T>): void {
    if (!this.isOpen) return;
    this.inFlight.push(this.task.emit(type, data).catch(() => 0));
  }

  /** Like `emit`, for the events that close what a cancel would leave open (`message:end`). */
  emitWhileStopping<T extends EventType>(type: T, data: EventData<T>): void {
    if (this.closed) return;
    this.inFlight.push(this.task.emit(type, data).catch(() => 0));
  }

  /** Waits while more than the window of events is on its way to the gateway. */
  async pace(): Promise<void> {
    while (this.inFlight.length > WINDOW) await this.inFlight.shift();
  }

  /** Resolves once every queued event was stored or reported. */
  async settled(): Promise<void> {
    await Promise.all(this.inFlight.splice(0));
  }

  close(): void {
    this.closed = true;
  }
}
