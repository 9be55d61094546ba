import {
  AgentwireError,
  reduceTask,
  type Backoff,
  taskIdOf,
  type AnyEnvelope,
  type ClientOp,
  type Command,
  type Envelope,
  type ErrorCode,
  type EventDataMap,
  type EventType,
  type Since,
  type SubscribedOp,
  type TaskState,
} from '@agentwire/protocol';
import { Emitter, type Listener } from './emitter.js';
import { taskCommands, type CommandAck, type TaskCommands } from './task-commands.js';

/** Where a subscriber is: the last event it applied, in the epoch it was in. */
export interface Position {
  epoch: string;
  seq: number;
}

export interface SubscribeOptions {
  /** Resume after this position instead of joining at the live head. */
  since?: Since;
  /** Ask for the reduced state with the first reply. Default: true for `task:*` streams. */
  snapshot?: boolean;
  /** The task state that belongs to `since` (e.g. persisted with it), so `state` stays whole. */
  state?: TaskState;
}

/** Why a subscription's history was replaced instead of resumed. */
export interface ResetInfo {
  /** The position the subscription asked to resume from. */
  from: Since;
  /** Where it continues: the snapshot's position. */
  to: Position;
  /** True when the stream's history was lost (new epoch); false when `from` was simply too old. */
  epochChanged: boolean;
}

/** Listener arguments per event: every catalog event type, plus the subscription's own events. */
export type SubscriptionEvents = {
  [T in EventType]: [data: EventDataMap[T], envelope: Envelope<T>];
} & {
  /**
   * Every event, in seq order, exactly once; a `message:delta` with `fromSeq` is the consecutive
   * deltas `fromSeq`..`seq` of one message merged (the gateway merges them for a subscriber that
   * fell behind or is catching up).
   */
  event: [envelope: AnyEnvelope];
  /** The task state changed (after each frame of events, and on snapshots). */
  state: [state: TaskState | undefined];
  /** The history could not be resumed; `state` and `position` now come from a snapshot. */
  reset: [info: ResetInfo];
  /** A typed error the gateway raised about this stream. */
  error: [error: AgentwireError];
};

/** A subscription also sends the task's commands: `sub.cancel()`, `sub.answer(…)`, `sub.send(…)`. */
export interface Subscription extends TaskCommands {
  readonly stream: string;
  /** The last event applied; undefined until the gateway confirmed the subscription. */
  readonly position: Readonly<Position> | undefined;
  /** The task's state folded with the shared reducer; undefined for non-task streams. */
  readonly state: TaskState | undefined;
  /** Resolves on the first confirmation; rejects if the gateway refuses the stream. */
  readonly ready: Promise<Position>;
  readonly closed: boolean;
  on<K extends keyof SubscriptionEvents>(event: K, listener: Listener<SubscriptionEvents[K]>): () => void;
  off<K extends keyof SubscriptionEvents>(event: K, listener: Listener<SubscriptionEvents[K]>): void;
  onEvent(listener: (envelope: AnyEnvelope) => void): () => void;
  close(): void;
}

/** What a subscription needs from the client that owns the connection. */
export interface SubscriptionHost {
  /** Sends if connected; returns false otherwise (the client re-subscribes on connect). */
  send(op: ClientOp): boolean;
  nextRef(): string;
  newBackoff(): Backoff;
  release(sub: StreamSubscription): void;
  /** The client's `command()`: sent with a ref, resolved by its ack, rejected with its typed error. */
  command(command: Command): Promise<unknown>;
}

// The gateway ran into trouble, not the request: ask again (from where we are) after a pause.
const retryable = new Set<ErrorCode>([
  'slow_consumer',
  'rate_limited',
  'unavailable',
  'storage_unavailable',
  'internal',
  'timeout',
  'shutting_down',
]);
// Replies to our own unsubscribe-then-subscribe, harmless by construction.
const ignorable = new Set<ErrorCode>(['already_subscribed', 'not_subscribed']);

export class StreamSubscription implements Subscription {
  readonly stream: string;
  readonly ready: Promise<Position>;
  readonly #host: SubscriptionHost;
  readonly #emitter = new Emitter<SubscriptionEvents>();
  readonly #isTask: boolean;
  readonly #snapshot: boolean;
  #since: Since | undefined;
  #position: Position | undefined;
  #state: TaskState | undefined;
  /** Whether `#state` is a faithful fold of the whole stream (so reducing further is meaningful). */
  #stateKnown: boolean;
  /** The ref of our latest subscribe on this connection; replies and errors about older ones are stale. */
  #ref: string | undefined;
  /** That subscribe awaits its reply; events are ignored meanwhile (they belong to a replaced one). */
  #pending = false;
  #askedSince: Since | undefined;
  /** The gateway holds a subscription for us on the current connection. */
  #live = false;
  #closed = false;
  #settled = false;
  #resolveReady!: (position: Position) => void;
  #rejectReady!: (error: AgentwireError) => void;
  #retry: Backoff | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: SubscriptionHost, stream: string, options: SubscribeOptions = {}) {
    this.#host = host;
    this.stream = stream;
    this.#isTask = taskIdOf(stream) !== undefined;
    this.#snapshot = options.snapshot ?? this.#isTask;
    this.#since = options.since;
    this.#state = this.#isTask ? options.state : undefined;
    this.#stateKnown = this.#state !== undefined;
    this.ready = new Promise<Position>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Callers who never await `ready` must not get an unhandled rejection for a refused stream.
    this.ready.catch(() => {});
  }

  get position(): Readonly<Position> | undefined {
    return this.#position;
  }

  get state(): TaskState | undefined {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  on<K extends keyof SubscriptionEvents>(event: K, listener: Listener<SubscriptionEvents[K]>): () => void {
    return this.#emitter.on(event, listener);
  }

  off<K extends keyof SubscriptionEvents>(event: K, listener: Listener<SubscriptionEvents[K]>): void {
    this.#emitter.off(event, listener);
  }

  onEvent(listener: (envelope: AnyEnvelope) => void): () => void {
    return this.#emitter.on<'event'>('event', listener);
  }

  close(): void {
    this.#end();
  }

  #commands: TaskCommands | undefined;
  get #taskCommands(): TaskCommands {
    return (this.#commands ??= taskCommands(
      this.stream,
      (c) => this.#host.command(c),
      () => this.#state,
    ));
  }

  cancel(options?: { reason?: string; agentId?: string }): Promise<CommandAck> {
    return this.#taskCommands.cancel(options);
  }

  answer(questionId: string, answer: unknown): Promise<CommandAck> {
    return this.#taskCommands.answer(questionId, answer);
  }

  send(text: string): Promise<CommandAck> {
    return this.#taskCommands.send(text);
  }

  // ---- driven by the client ------------------------------------------------------------------

  get ref(): string | undefined {
    return this.#ref;
  }

  /** Asks the gateway for the stream, resuming from the current position when there is one. */
  attach(): void {
    if (this.#closed) return;
    this.#clearRetry();
    const ref = this.#host.nextRef();
    const since: Since | undefined = this.#position ? { ...this.#position } : this.#since;
    this.#ref = ref;
    this.#pending = true;
    this.#askedSince = since;
    this.#host.send({
      op: 'subscribe',
      stream: this.stream,
      ref,
      ...(since && { since }),
      ...(this.#snapshot && { snapshot: true }),
      coalesce: true,
    });
  }

  /** The connection is gone; the gateway's side of the subscription went with it. */
  detach(): void {
    this.#ref = undefined;
    this.#pending = false;
    this.#live = false;
    this.#clearRetry();
  }

  handleSubscribed(op: SubscribedOp): void {
    if (this.#closed || !this.#pending) return;
    if (op.ref !== undefined && op.ref !== this.#ref) return; // reply to a superseded subscribe
    this.#pending = false;
    this.#live = true;
    this.#retry?.reset();
    const asked = this.#askedSince;
    const reset = asked !== undefined && !op.recovered;
    if (op.snapshot) {
      this.#position = { epoch: op.epoch, seq: op.snapshot.seq };
      if (this.#isTask) {
        this.#state = op.snapshot.state ?? undefined;
        this.#stateKnown = true;
      }
    } else if (asked !== undefined && op.recovered) {
      // Everything after `asked` follows. From seq 0 that is the whole history, so state is whole too.
      this.#position = { epoch: op.epoch, seq: asked.seq };
      if (asked.seq === 0 && this.#isTask && this.#state === undefined) this.#stateKnown = true;
    } else {
      // Live tail from the head; with a reset and no snapshot, what we held no longer applies.
      this.#position = { epoch: op.epoch, seq: op.seq };
      if (reset) {
        this.#state = undefined;
        this.#stateKnown = false;
      }
    }
    if (!this.#settled) {
      this.#settled = true;
      this.#resolveReady({ ...this.#position });
    }
    if (reset) {
      const epochChanged = asked.epoch !== undefined && asked.epoch !== op.epoch;
      this.#emitter.emit('reset', { from: asked, to: { ...this.#position }, epochChanged });
    }
    if (this.#isTask && (op.snapshot || reset) && !this.#closed) this.#emitter.emit('state', this.#state);
  }

  handleEvents(events: readonly AnyEnvelope[]): void {
    if (this.#pending || !this.#live) return; // stale frames of a replaced subscription
    const before = this.#state;
    for (const e of events) {
      const at = this.#position;
      if (this.#closed || !at || e.stream !== this.stream) break;
      // A merged delta (`fromSeq`) stands for fromSeq..seq: it follows on where its first part does.
      const first = e.fromSeq ?? e.seq;
      if (e.epoch !== at.epoch || first > at.seq + 1 || (first <= at.seq && e.seq > at.seq)) {
        // A gap, history replaced under us, or a merged delta that half overlaps what we have:
        // applying it would corrupt order and state, so ask again from what we have; the gateway
        // fills the gap or answers with a snapshot.
        this.#resubscribe();
        break;
      }
      if (e.seq <= at.seq) continue; // already applied
      this.#position = { epoch: e.epoch, seq: e.seq };
      if (this.#stateKnown) this.#state = reduceTask(this.#state, e);
      this.#emitter.emit('event', e);
      this.#emitTyped(e);
    }
    if (this.#state !== before && !this.#closed) this.#emitter.emit('state', this.#state);
  }

  /** An error op naming this stream; `ref` says which of our subscribes it is about. */
  handleError(error: AgentwireError, ref: string | undefined): void {
    if (this.#closed || ignorable.has(error.code)) return;
    if (ref !== undefined && ref !== this.#ref) return; // about a subscribe we already replaced
    this.#emitter.emit('error', error);
    if (!retryable.has(error.code)) {
      this.#end(error);
      return;
    }
    // Pending or live, the gateway dropped it (or will be told to): ask again from our position.
    this.#pending = false;
    this.#retry ??= this.#host.newBackoff();
    this.#clearRetry();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#resubscribe();
    }, this.#retry.next());
  }

  #resubscribe(): void {
    if (this.#closed) return;
    // The gateway may still hold the old subscription; ops are processed in order, so the
    // unsubscribe lands first and every event after the new `subscribed` belongs to the new one.
    if (this.#live && this.#host.send({ op: 'unsubscribe', stream: this.stream })) this.#live = false;
    this.attach();
  }

  #end(error?: AgentwireError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearRetry();
    if (this.#live || this.#pending) this.#host.send({ op: 'unsubscribe', stream: this.stream });
    this.#live = false;
    this.#pending = false;
    this.#host.release(this);
    if (!this.#settled) {
      this.#settled = true;
      this.#rejectReady(
        error ?? new AgentwireError('not_subscribed', 'The subscription was closed before it started.'),
      );
    }
    this.#emitter.clear();
  }

  #emitTyped(e: AnyEnvelope): void {
    // `e.type` and `e.data` are correlated by AnyEnvelope, which TS cannot see through a union index.
    (this.#emitter as unknown as Emitter<Record<string, [unknown, AnyEnvelope]>>).emit(e.type, e.data, e);
  }

  #clearRetry(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }
}
