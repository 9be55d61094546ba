import { AgentwireError, type AnyEnvelope, type Since, type TaskState } from '@agentwire/protocol';
import type { AppendInterest, LogEngine } from '../log/engine.js';
import type { SnapshotService } from '../snapshots.js';
import { HeldEvents, compact, compactedFrame, defaultCoalesce, type CoalesceOptions } from './coalesce.js';
import { frameOf, liveFrame } from './encode.js';
import { RecentEvents, defaultRecentEvents, type RecentEventsOptions } from './recent.js';
import type { Sink } from './sink.js';
import { UnwatchedStreams } from './unwatched.js';
import { startFanOut } from '../tracing.js';

export interface HubRecentOptions extends RecentEventsOptions {
  /**
   * How long after its last subscriber left a stream's events are still kept, for the subscribers
   * that come back. Streams nobody watches keep none: under heavy ingest with no one watching,
   * keeping them only made the garbage collector move every event to the old generation.
   */
  keepUnwatchedMs: number;
}

export const defaultHubRecent: HubRecentOptions = { ...defaultRecentEvents, keepUnwatchedMs: 60_000 };

export interface SubscribeRequest {
  since?: Since;
  snapshot?: boolean;
  /** The subscriber accepts merged token deltas (`fromSeq`): see CoalesceOptions. */
  coalesce?: boolean;
}

export interface SubscribeResult {
  stream: string;
  epoch: string;
  /** The stream's head when the subscription was set up. */
  seq: number;
  recovered: boolean;
  snapshot?: { seq: number; state: TaskState | null };
}

/** One sink's interest in one stream. */
export class Subscription {
  /** Seq of the last event sent to the sink. */
  lastSeq = 0;
  /** The stream's epoch when the subscription was positioned. */
  epoch = '';
  /** While catching up from the log, live events wait here. */
  buffer: AnyEnvelope[] | undefined = [];
  closed = false;
  /** The subscriber accepts merged token deltas. */
  coalesce = false;
  /** Events held back while the subscriber's connection drains (coalescing subscribers only). */
  held: HeldEvents | undefined;

  constructor(
    readonly stream: string,
    readonly sink: Sink,
  ) {}
}

/**
 * A live-only interest in every stream whose name starts with `prefix` (a dashboard watching all
 * tasks). No resume and no snapshot: it sees what commits after it opened.
 */
export class PatternSubscription {
  closed = false;

  constructor(
    readonly prefix: string,
    readonly sink: Sink,
  ) {}
}

const CATCH_UP_CHUNK = 500;
/**
 * While the log cannot be read (`storage_unavailable`: Redis restarting, a full disk), a catch-up
 * waits this long and reads again, doubling up to `CATCH_UP_RETRY_MAX_MS`, for as long as its
 * subscriber stays: the subscriber stalls through the outage and resumes after it with no gap.
 */
export const CATCH_UP_RETRY_MS = 100;
export const CATCH_UP_RETRY_MAX_MS = 1_000;

/** A chunk of the log for `sub`, retried while the log is unavailable; undefined once `sub` closed. */
async function readRetrying(
  engine: LogEngine,
  sub: Subscription,
  limit: number,
): Promise<{ first: number; events: AnyEnvelope[] } | undefined> {
  for (let wait = CATCH_UP_RETRY_MS; ; wait = Math.min(wait * 2, CATCH_UP_RETRY_MAX_MS)) {
    try {
      return await engine.read(sub.stream, sub.lastSeq, limit);
    } catch (err) {
      if (!(err instanceof AgentwireError) || err.code !== 'storage_unavailable') throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    if (sub.closed) return undefined;
  }
}

const isStart = (e: AnyEnvelope) => e.type === 'task:start';

/**
 * Fans committed events out to the subscribers of each stream. The hub listens to the log engine,
 * never to producers, so nothing is visible before it is durable. A subscriber that resumes reads
 * what it missed from the log while live events queue behind, then switches to the live tail: the
 * seq check on every frame makes the switch gapless and duplicate-free.
 */
/** The access rules every subscription passes, on every transport (docs/security.md); none on an open gateway. */
export interface HubGuards {
  /**
   * Runs before any subscription is positioned; a rejection ends the subscription like any other
   * failure of `start`, as a typed error.
   */
  guard?: (stream: string, sink: Sink) => Promise<void>;
  /** Whether a prefix subscriber may see a stream's events; decided per batch, without waiting. */
  patternFilter?: (stream: string, sink: Sink) => boolean;
  /**
   * How many of a run of events about to reach a subscription its sink may see; asked when the
   * run holds a `task:start` (a task may move to another project). The subscription gets that
   * many and then ends with `forbidden`, whichever ingest path or node stored the move.
   */
  visibleRun?: (stream: string, events: readonly AnyEnvelope[], sink: Sink) => number;
}

export class Hub {
  private readonly streams = new Map<string, Set<Subscription>>();
  private readonly patterns = new Set<PatternSubscription>();
  private readonly unlisten: () => void;
  deliveredEvents = 0;
  /** Subscribers disconnected for falling more than `maxBufferedBytes` behind. */
  slowConsumerEvictions = 0;
  /** Events that reached a subscriber merged into another (coalesced token deltas). */
  coalescedEvents = 0;
  private readonly guard: HubGuards['guard'];
  private readonly patternFilter: HubGuards['patternFilter'];
  private readonly visibleRun: HubGuards['visibleRun'];
  private readonly recent: RecentEvents;
  private readonly unwatched: UnwatchedStreams;
  private readonly coalesce: CoalesceOptions;
  private readonly behindBytes: number;
  /** Subscriptions holding events, checked every `flushIntervalMs` while there are any. */
  private readonly holding = new Set<Subscription>();
  private flushTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly engine: LogEngine,
    private readonly snapshots: SnapshotService,
    private readonly maxBufferedBytes: number,
    recentEvents: HubRecentOptions = defaultHubRecent,
    coalesce: Partial<CoalesceOptions> = {},
    guards: HubGuards = {},
  ) {
    this.guard = guards.guard;
    this.patternFilter = guards.patternFilter;
    this.visibleRun = guards.visibleRun;
    this.coalesce = { ...defaultCoalesce, ...coalesce };
    this.behindBytes = Math.min(this.coalesce.behindBytes, Math.floor(maxBufferedBytes / 2));
    this.recent = new RecentEvents(recentEvents);
    this.unwatched = new UnwatchedStreams(recentEvents.keepUnwatchedMs, (stream) =>
      this.recent.forget(stream),
    );
    // A stream nobody here watches (or just left) needs no events: a later subscriber reads the log.
    const interest: AppendInterest = {
      wants: (stream) => this.keepsRecent(stream),
      skipped: (stream) => {
        this.recent.forget(stream);
        snapshots.forget(stream);
      },
    };
    this.unlisten = engine.onAppend((stream, events) => {
      // A stream's kept run must end at its newest event, or a catch-up would stop short of it:
      // a batch that is not kept drops the rest too.
      if (this.keepsRecent(stream)) this.recent.add(stream, events);
      else this.recent.forget(stream);
      snapshots.onAppend(stream, events);
      const span = startFanOut(stream, events);
      const delivered = this.deliveredEvents;
      this.fanOut(stream, events);
      this.fanOutPatterns(stream, events);
      span?.setAttribute('agentwire.events.delivered', this.deliveredEvents - delivered).end();
    }, interest);
  }

  get subscriptionCount(): number {
    let n = 0;
    for (const subs of this.streams.values()) n += subs.size;
    return n + this.patterns.size;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Registers `sink` on `stream`; live events queue on the subscription until `start` has caught up. */
  open(stream: string, sink: Sink): Subscription {
    const sub = new Subscription(stream, sink);
    let subs = this.streams.get(stream);
    if (!subs) {
      this.streams.set(stream, (subs = new Set()));
      this.unwatched.watched(stream);
    }
    subs.add(sub);
    return sub;
  }

  /**
   * Positions the subscription (resume, snapshot or live tail) and catches it up. `onReady` runs
   * before any event is sent, so the transport can write its `subscribed` frame first.
   */
  async start(
    sub: Subscription,
    request: SubscribeRequest,
    onReady: (result: SubscribeResult) => void,
  ): Promise<void> {
    const { stream } = sub;
    try {
      if (this.guard) await this.guard(stream, sub.sink);
      if (sub.closed) return;
      const head = await this.engine.head(stream);
      const { since } = request;
      let from = head.head;
      let recovered = true;
      let snapshot: SubscribeResult['snapshot'];
      if (since) {
        const sameEpoch = since.epoch === undefined || since.epoch === head.epoch;
        const retained = since.seq >= head.first - 1 && since.seq <= head.head;
        if (sameEpoch && retained) {
          from = since.seq;
        } else {
          recovered = false;
        }
      }
      if (!recovered || (!since && request.snapshot)) {
        const snap = await this.snapshots.get(stream);
        snapshot = { seq: snap.seq, state: snap.state };
        from = snap.seq;
      }
      if (sub.closed) return;
      sub.coalesce = request.coalesce === true && this.coalesce.enabled;
      onReady({ stream, epoch: head.epoch, seq: head.head, recovered, ...(snapshot && { snapshot }) });
      sub.lastSeq = from;
      sub.epoch = head.epoch;
      await this.catchUp(sub);
    } catch (err) {
      this.unsubscribe(sub);
      throw err;
    }
  }

  unsubscribe(sub: Subscription): void {
    sub.closed = true;
    if (sub.held) {
      sub.held = undefined;
      this.holding.delete(sub);
    }
    const subs = this.streams.get(sub.stream);
    if (!subs) return;
    subs.delete(sub);
    if (subs.size === 0) {
      this.streams.delete(sub.stream);
      this.unwatched.left(sub.stream, performance.now());
    }
  }

  /** Pattern subscribers may resume any stream, so with any of them everything is kept. */
  private keepsRecent(stream: string): boolean {
    return (
      this.streams.has(stream) || this.patterns.size > 0 || this.unwatched.recent(stream, performance.now())
    );
  }

  /** Delivers every event committed from now on to any stream starting with `prefix`. */
  openPattern(prefix: string, sink: Sink): PatternSubscription {
    const sub = new PatternSubscription(prefix, sink);
    this.patterns.add(sub);
    return sub;
  }

  closePattern(sub: PatternSubscription): void {
    sub.closed = true;
    this.patterns.delete(sub);
  }

  /** Subscribers per stream, for at most `limit` streams: who watches what (the dashboard's presence). */
  watcherCounts(limit = 1_000): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [stream, subs] of this.streams) {
      if (limit-- <= 0) break;
      out[stream] = subs.size;
    }
    return out;
  }

  close(): void {
    this.unlisten();
    this.recent.clear();
    this.unwatched.clear();
    for (const sub of this.patterns) sub.closed = true;
    this.patterns.clear();
    for (const subs of this.streams.values()) for (const sub of subs) sub.closed = true;
    this.streams.clear();
    this.holding.clear();
    clearInterval(this.flushTimer);
    this.flushTimer = undefined;
  }

  /**
   * The most memory one subscriber holds on this node: bytes held in the hub for it plus bytes
   * unsent on its connection (a gauge; walks every subscription).
   */
  get maxSubscriberBytes(): number {
    let max = 0;
    for (const subs of this.streams.values())
      for (const sub of subs) max = Math.max(max, (sub.held?.bytes ?? 0) + sub.sink.bufferedBytes);
    return max;
  }

  /** Bytes of events held for subscribers that are behind, in all (a gauge). */
  get heldBytes(): number {
    let n = 0;
    for (const sub of this.holding) n += sub.held?.bytes ?? 0;
    return n;
  }

  /** Reads from the log until the subscription reaches the live tail, then drains its buffer. */
  private async catchUp(sub: Subscription): Promise<void> {
    for (let stalls = 0; ;) {
      if (sub.closed) return;
      // Recent events come from memory: synchronous, so nothing can commit in between.
      const recent = this.recent.read(sub.stream, sub.epoch, sub.lastSeq, CATCH_UP_CHUNK);
      const chunk = recent
        ? { first: sub.lastSeq + 1, events: recent }
        : await readRetrying(this.engine, sub, CATCH_UP_CHUNK);
      if (!chunk || sub.closed) return;
      if (chunk.first > sub.lastSeq + 1) {
        // Retention trimmed what this subscriber still needed while it was catching up. Ending the
        // connection makes the client resume from its last seq, which now answers recovered:false
        // with a snapshot, instead of silently skipping events.
        this.drop(sub);
        return;
      }
      this.sendFresh(sub, chunk.events);
      if (chunk.events.length === CATCH_UP_CHUNK) continue;
      const waiting = sub.buffer ?? [];
      const firstWaiting = waiting.find((e) => e.seq > sub.lastSeq);
      // Live events that jumped ahead of what the log returned mean we raced a commit: read again.
      if (firstWaiting && firstWaiting.seq > sub.lastSeq + 1) {
        if (chunk.events.length === 0 && ++stalls > 50) {
          throw new AgentwireError('internal', `Stream ${sub.stream} has a hole after seq ${sub.lastSeq}.`);
        }
        await new Promise((resolve) => setTimeout(resolve, stalls));
        continue;
      }
      sub.buffer = undefined;
      this.sendFresh(sub, waiting);
      return;
    }
  }

  private sendFresh(sub: Subscription, events: readonly AnyEnvelope[]): void {
    const fresh = events.filter((e) => e.seq > sub.lastSeq);
    if (fresh.length === 0) return;
    const visible =
      this.visibleRun && fresh.some(isStart) ? this.visibleRun(sub.stream, fresh, sub.sink) : fresh.length;
    if (visible >= fresh.length) {
      this.write(sub, fresh);
      return;
    }
    const allowed = fresh.slice(0, Math.max(0, visible));
    if (allowed.length > 0) this.write(sub, allowed);
    this.flush(sub);
    this.revoke(sub);
  }

  /** Ends a subscription its subscriber may no longer read, telling the transport why. */
  private revoke(sub: Subscription): void {
    if (sub.closed) return;
    this.unsubscribe(sub);
    const err = new AgentwireError('forbidden', `Not allowed: reading ${sub.stream} any more.`);
    if (sub.sink.revoke) sub.sink.revoke(sub.stream, err);
    else sub.sink.overflow();
  }

  private fanOut(stream: string, events: AnyEnvelope[]): void {
    const subs = this.streams.get(stream);
    if (!subs || events.length === 0) return;
    const first = events[0]!.seq;
    const last = events[events.length - 1]!.seq;
    // A task:start may move the task out of a subscriber's reach: each subscriber is then checked.
    const moves = this.visibleRun !== undefined && events.some(isStart);
    let frame: string | undefined;
    for (const sub of subs) {
      if (sub.buffer) {
        sub.buffer.push(...events);
        continue;
      }
      if (sub.lastSeq + 1 === first && !moves) {
        if (sub.coalesce && (sub.held || sub.sink.bufferedBytes > this.behindBytes)) {
          this.hold(sub, events);
          continue;
        }
        // Built once per fan-out; only catch-ups, which many subscribers repeat, go through the run cache.
        frame ??= liveFrame(stream, events);
        this.send(sub, frame, last, events.length);
      } else if (sub.lastSeq + 1 >= first) {
        this.sendFresh(sub, events);
      } else {
        // A gap: something was committed that this node did not hear about. Re-read from the log.
        sub.buffer = [...events];
        this.catchUp(sub).catch(() => this.drop(sub));
      }
    }
  }

  private fanOutPatterns(stream: string, events: AnyEnvelope[]): void {
    if (this.patterns.size === 0 || events.length === 0) return;
    let frame: string | undefined;
    for (const sub of this.patterns) {
      if (!stream.startsWith(sub.prefix)) continue;
      if (this.patternFilter && !this.patternFilter(stream, sub.sink)) continue;
      if (sub.sink.bufferedBytes > this.maxBufferedBytes) {
        this.closePattern(sub);
        this.slowConsumerEvictions++;
        sub.sink.overflow();
        continue;
      }
      frame ??= liveFrame(stream, events);
      this.deliveredEvents += events.length;
      sub.sink.send(frame);
    }
  }

  /** Sends a run of fresh, consecutive events, held back or compacted for a coalescing subscriber. */
  private write(sub: Subscription, events: readonly AnyEnvelope[]): void {
    const last = events[events.length - 1]!.seq;
    if (!sub.coalesce) {
      this.send(sub, frameOf(sub.stream, events), last, events.length);
      return;
    }
    if (sub.held || sub.sink.bufferedBytes > this.behindBytes) {
      this.hold(sub, events);
      return;
    }
    // A catch-up replays a message's deltas one by one; merged, they cost what the text costs.
    const compacted = compact(events);
    if (compacted === events) {
      this.send(sub, frameOf(sub.stream, events), last, events.length);
      return;
    }
    this.coalescedEvents += events.length - compacted.length;
    this.send(sub, compactedFrame(sub.stream, compacted), last, events.length);
  }

  private send(sub: Subscription, frame: string, lastSeq: number, count: number): void {
    if (sub.sink.bufferedBytes > this.maxBufferedBytes) {
      this.drop(sub);
      return;
    }
    sub.lastSeq = lastSeq;
    this.deliveredEvents += count;
    sub.sink.send(frame);
  }

  /** Queues events for a subscriber that is behind; evicts it when the queue outgrows its bounds. */
  private hold(sub: Subscription, events: readonly AnyEnvelope[]): void {
    let held = sub.held;
    if (!held) {
      sub.held = held = new HeldEvents();
      this.holding.add(sub);
      this.flushTimer ??= setInterval(() => this.flushHolding(), this.coalesce.flushIntervalMs);
      this.flushTimer.unref?.();
    }
    held.add(events);
    sub.lastSeq = events[events.length - 1]!.seq;
    if (held.bytes > this.coalesce.maxHeldBytes || held.count > this.coalesce.maxHeldEvents) this.drop(sub);
  }

  /** Sends what each holding subscription holds once its connection has drained below `behindBytes`. */
  private flushHolding(): void {
    for (const sub of this.holding) {
      if (sub.closed || !sub.held) this.holding.delete(sub);
      else if (sub.sink.bufferedBytes <= this.behindBytes) this.flush(sub);
    }
    if (this.holding.size === 0) {
      clearInterval(this.flushTimer);
      this.flushTimer = undefined;
    }
  }

  private flush(sub: Subscription): void {
    const held = sub.held;
    if (!held) return;
    sub.held = undefined;
    this.holding.delete(sub);
    const sent = held.count;
    if (sent === 0) return;
    const { frame, count } = held.take(sub.stream);
    this.coalescedEvents += count - sent;
    this.send(sub, frame, sub.lastSeq, count);
  }

  private drop(sub: Subscription): void {
    this.unsubscribe(sub);
    this.slowConsumerEvictions++;
    sub.sink.overflow();
  }
}
