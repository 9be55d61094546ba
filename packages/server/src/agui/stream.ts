import type { ServerResponse } from 'node:http';
import { AgentwireError, type AgUiEvent, type Since } from '@agentwire/protocol';
import type { Hub, Subscription } from '../hub/hub.js';
import type { Sink } from '../hub/sink.js';
import type { LogEngine } from '../log/engine.js';
import type { Logger } from '../logger.js';
import type { SnapshotService } from '../snapshots.js';
import { envelopesOf } from '../transports/native-frames.js';
import { stateAt } from './history.js';
import { AgUiTranslator, type Translated } from './translator.js';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // nginx buffers proxied responses unless told not to; an event stream must flow as written.
  'x-accel-buffering': 'no',
} as const;

/** How long an ended stream may take to drain before its socket is destroyed. */
const DRAIN_GRACE_MS = 10_000;

export interface AgUiStreamDeps {
  hub: Hub;
  engine: LogEngine;
  snapshots: SnapshotService;
  logger: Logger;
}

/**
 * One AG-UI run on the wire: an SSE response whose `data:` lines are AG-UI events, the last event
 * of each of our events carrying its seq as the SSE `id`, so `Last-Event-ID` is exact. The run is
 * positioned (resume or late-joiner prelude), then fed by the hub like any subscriber, so catching
 * up and the live tail are the hub's gapless switch. Closing the response only unsubscribes: a
 * client going away is a disconnect, never a cancel.
 */
export class AgUiStream implements Sink {
  private sub: Subscription | undefined;
  private opened = false;
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly translator: AgUiTranslator,
    private readonly deps: AgUiStreamDeps,
  ) {
    res.socket?.setNoDelay(true);
    res.writeHead(200, SSE_HEADERS);
    res.once('close', () => this.dispose());
  }

  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  /**
   * Opens the run at `position` when the log still holds it (a resume: the client has everything
   * up to there), else at the task's head with the conversation and state first (a late joiner).
   * `notices` follow `RUN_STARTED` (resume entries that could not be applied, say).
   */
  async start(stream: string, position: Since | undefined, notices: AgUiEvent[] = []): Promise<void> {
    const { engine, snapshots, hub } = this.deps;
    const head = await engine.head(stream);
    const resumable =
      position !== undefined &&
      (position.epoch === undefined || position.epoch === head.epoch) &&
      position.seq >= head.first - 1 &&
      position.seq <= head.head;
    const seq = resumable ? position.seq : head.head;
    const loaded = await stateAt(engine, snapshots, stream, seq, !resumable);
    if (this.closed) return;
    const opening = this.translator.open(
      { seq, epoch: head.epoch },
      loaded.state,
      loaded.messages && { messages: loaded.messages },
    );
    // Notices go right after RUN_STARTED: the opening may already end the run.
    opening.events.splice(1, 0, ...notices);
    this.write(opening);
    this.opened = true;
    if (this.translator.ended) {
      this.finish();
      return;
    }
    const sub = hub.open(stream, this);
    this.sub = sub;
    await hub.start(sub, { since: { seq, epoch: head.epoch } }, (result) => {
      // Trimmed between the head read and now: what was opened above no longer joins the log.
      if (!result.recovered) {
        throw new AgentwireError(
          'invalid_since',
          'The run position was trimmed while it was set up; run again.',
        );
      }
    });
  }

  send(frame: string | Uint8Array): void {
    if (this.closed || !this.opened) return;
    for (const e of envelopesOf(frame)) {
      this.write(this.translator.push(e));
      if (this.translator.ended) {
        this.finish();
        return;
      }
    }
  }

  /** The hub dropped us for falling behind: the client resumes from the last seq it has. */
  overflow(): void {
    this.fail(new AgentwireError('slow_consumer'));
  }

  /** A comment line, which AG-UI clients skip; only while nothing else is queued. */
  beat(): void {
    if (!this.closed && this.res.writableLength === 0) this.res.write(': keep-alive\n\n');
  }

  /** Ends the run with `RUN_ERROR` carrying our code (a refusal, `shutting_down`, `slow_consumer`). */
  fail(err: unknown): void {
    if (this.closed) return;
    const e = err instanceof AgentwireError ? err : new AgentwireError('internal');
    if (!this.translator.ended) {
      // Carries where the client is, so it knows what to resume from.
      const at = this.translator.position;
      const event = { ...AgUiTranslator.refusal(e.code, e.message), metadata: { agentwire: at } };
      this.write({ seq: at.seq, events: [event] });
    }
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.dispose();
    this.res.end();
    // A client that stopped reading would hold the socket forever; end() alone waits for it.
    const timer = setTimeout(() => this.res.destroy(), DRAIN_GRACE_MS);
    timer.unref();
    this.res.once('close', () => clearTimeout(timer));
  }

  private dispose(): void {
    this.closed = true;
    if (this.sub) this.deps.hub.unsubscribe(this.sub);
    this.sub = undefined;
  }

  private write({ seq, events }: Translated): void {
    if (this.closed || this.res.destroyed || events.length === 0) return;
    let text = '';
    for (let i = 0; i < events.length; i++) {
      text += `${i === events.length - 1 ? `id: ${seq}\n` : ''}data: ${JSON.stringify(events[i])}\n\n`;
    }
    this.res.write(text);
  }
}
