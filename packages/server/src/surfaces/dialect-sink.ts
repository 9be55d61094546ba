import type { AgentwireError, AnyEnvelope } from '@agentwire/protocol';
import type { Sink } from '../hub/sink.js';

type Item = { events: AnyEnvelope[]; bytes: number } | { run: () => void };

export interface DialectSinkOptions {
  /** Hands a run of consecutive events to the dialect; may be async (task state lookups). */
  deliver(events: AnyEnvelope[]): void | Promise<void>;
  /** Bytes the transport itself still holds for this connection. */
  transportBytes(): number;
  overflow(): void;
  /** The hub ended the subscription to `stream`: access to it was withdrawn. */
  revoke(stream: string, err: AgentwireError): void;
  onError(err: unknown): void;
}

/**
 * The hub's view of one dialect connection. Frames are decoded back into envelopes (a dialect
 * re-shapes every event, so the native encoding cannot be forwarded as is) and everything the
 * connection sends — events, acknowledgements, snapshots — passes through one queue, so a client
 * sees them in the order they happened even while a delivery awaits task state. Events queued
 * together are delivered together, which is what lets seed 004 send `{type: 'batch'}`.
 */
export class DialectSink implements Sink {
  private readonly queue: Item[] = [];
  private queuedBytes = 0;
  private pumping = false;
  private closed = false;

  constructor(private readonly options: DialectSinkOptions) {}

  get bufferedBytes(): number {
    return this.queuedBytes + this.options.transportBytes();
  }

  send(frame: string): void {
    if (this.closed) return;
    const events = decodeFrame(frame);
    if (events.length === 0) return;
    this.queuedBytes += frame.length;
    this.push({ events, bytes: frame.length });
  }

  /** Runs `fn` after everything queued before it has been sent. */
  control(fn: () => void): void {
    if (!this.closed) this.push({ run: fn });
  }

  overflow(): void {
    this.options.overflow();
  }

  /** Reported after what was queued before it, as the connection's other answers are. */
  revoke(stream: string, err: AgentwireError): void {
    this.control(() => this.options.revoke(stream, err));
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private push(item: Item): void {
    this.queue.push(item);
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const head = this.queue[0]!;
        if ('run' in head) {
          this.queue.shift();
          try {
            head.run();
          } catch (err) {
            this.options.onError(err);
          }
          continue;
        }
        const events: AnyEnvelope[] = [];
        for (let next = this.queue[0]; next && 'events' in next; next = this.queue[0]) {
          this.queue.shift();
          this.queuedBytes -= next.bytes;
          events.push(...next.events);
        }
        try {
          await this.options.deliver(events);
        } catch (err) {
          this.options.onError(err);
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}

/**
 * Envelopes in one hub frame. Frames are native server ops (`event` / `events`), the same text the
 * WebSocket sends; anything else is not an event and is skipped.
 */
export function decodeFrame(frame: string): AnyEnvelope[] {
  const op = JSON.parse(frame) as { op?: unknown; event?: AnyEnvelope; events?: AnyEnvelope[] };
  if (op.op === 'event' && op.event) return [op.event];
  if (op.op === 'events' && Array.isArray(op.events)) return op.events;
  return [];
}
