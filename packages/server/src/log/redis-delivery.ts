import type { AgentwireError } from '@agentwire/protocol';
import type { Redis } from 'ioredis';
import type { AppendBatchResult, AppendInterest, AppendListener, ReadResult } from './engine.js';
import { messageOf } from '../error-text.js';
import { AppendNotifier } from './notifier.js';
import { parseAnnouncement, type Announcement } from './redis-announcement.js';
import type { QueuedAppend, RedisStorage } from './redis-storage.js';

/** An append call of this node: its inputs, and how its caller is answered once it is delivered. */
export interface PendingAppend extends QueuedAppend {
  resolve: (result: AppendBatchResult) => void;
  reject: (err: AgentwireError) => void;
}

export interface RedisDeliveryStats {
  /** Appends announced by other nodes. */
  remoteCommits: number;
  /** Events of other nodes delivered to this node's listeners. */
  remoteEvents: number;
  /**
   * Ranges read back from the log to deliver them: commits announced without their events (too
   * large), and commits whose announcement was lost.
   */
  rangeReads: number;
  /** Ranges not read because no listener here wanted their stream (see `AppendInterest`). */
  skippedRanges: number;
}

/** One script call: a group of appends to one stream. */
interface Commit {
  batch: PendingAppend[];
  /** Settles with Redis's reply; rejects with an AgentwireError. */
  replied: Promise<AppendBatchResult[]>;
  /** Set once something (its announcement, the fallback, a failure) has taken charge of delivery. */
  claimed: boolean;
  fallback: NodeJS.Timeout | undefined;
}

/** Per-stream delivery state. */
interface Lane {
  /** This node's commits not yet delivered, in commit order (= the order of their announcements). */
  awaiting: Commit[];
  /** Deliveries of this stream run one after another, so listeners hear its seqs in order. */
  chain: Promise<void>;
  steps: number;
}

const READ_CHUNK = 1000;
/** Streams whose last delivered seq is remembered; beyond this the least recent is forgotten. */
const MAX_TRACKED_STREAMS = 100_000;
/** How long a commit waits for its own announcement before it is delivered from the reply. */
const ANNOUNCEMENT_WAIT_MS = 2000;
/** How soon a resync that failed (the log connection not back yet) is tried again. */
const RESYNC_RETRY_MS = 250;
/** Reads of a gap before this node's own commit, 100 ms apart doubling to 1 s: about 15 s in all. */
const GAP_RETRIES = 18;

/**
 * Cross-node delivery of the Redis log: every node hears every commit of every node, in seq order
 * per stream, once.
 *
 * Delivery follows the announcements. Redis hands a subscriber the messages of one channel in the
 * order they were published, and each is published inside its atomic commit, so the announcements
 * arrive in commit order, this node's own included. Listeners hear another node's commit from its
 * announcement, which carries the events when they fit `announceMaxBytes` (else the announced range
 * is read back from the log, if a listener here wants the stream), and this node's own commit when its announcement arrives (its events
 * are already in hand). Each stream's deliveries form one chain that remembers the last seq
 * delivered, so a seq is heard at most once and never before a smaller one; if announcements were
 * lost (the subscriber reconnected), the node compares every stream it tracks with its head once
 * subscribed again, and the next commit of a stream reads any range still missing first.
 * Should this node's own announcement not arrive (the subscriber is down), its commit is delivered
 * from the reply instead, after a short wait or at once when the subscriber is known to be down.
 */
export class RedisDelivery {
  private readonly notifier: AppendNotifier;
  private readonly lanes = new Map<string, Lane>();
  private readonly delivered = new Map<string, number>();
  private readonly busy = new Set<Promise<unknown>>();
  private listenerCount = 0;
  private closed = false;
  /** Announcements may have been lost since the subscriber last connected: resync once it is back. */
  private missed = false;
  private readonly counters: RedisDeliveryStats = {
    remoteCommits: 0,
    remoteEvents: 0,
    rangeReads: 0,
    skippedRanges: 0,
  };
  /** One entry per listener: its interest, or undefined for one that wants every stream. */
  private readonly interests = new Set<{ interest: AppendInterest | undefined }>();
  /** Set once the storage exists (the two refer to each other). */
  private storage!: RedisStorage<PendingAppend>;

  constructor(
    private readonly nodeId: string,
    private readonly subscriber: Redis,
    onListenerError?: (err: unknown) => void,
  ) {
    this.notifier = new AppendNotifier(onListenerError);
  }

  get ready(): boolean {
    return this.subscriber.status === 'ready';
  }

  /** Subscribes to the announcements of every node. */
  async start(storage: RedisStorage<PendingAppend>): Promise<void> {
    this.storage = storage;
    const channel = storage.keys.channel;
    this.subscriber.on('message', (from: string, message: string) => {
      if (from === channel) this.onAnnouncement(message);
    });
    this.subscriber.on('close', () => this.onSubscriberDown());
    this.subscriber.on('ready', () => {
      if (this.missed) this.track(this.resync());
    });
    await this.subscriber.subscribe(channel);
  }

  onAppend(listener: AppendListener, interest?: AppendInterest): () => void {
    const remove = this.notifier.add(listener);
    const entry = { interest };
    this.interests.add(entry);
    this.listenerCount++;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.listenerCount--;
      this.interests.delete(entry);
      remove();
    };
  }

  /** Takes charge of a group commit as the storage sends it. */
  readonly onCommit = (
    stream: string,
    batch: PendingAppend[],
    replied: Promise<AppendBatchResult[]>,
  ): void => {
    const commit: Commit = { batch, replied, claimed: false, fallback: undefined };
    const lane = this.lane(stream);
    lane.awaiting.push(commit);
    const settled = replied.then(
      (outcomes) => {
        if (commit.claimed) return;
        const stored = outcomes.some((o) => o.appended.length > 0);
        // Nothing stored means nothing announced: settle now, behind earlier deliveries.
        if (!stored || !this.ready) this.deliverFromReply(stream, commit);
        else {
          commit.fallback = setTimeout(() => this.deliverFromReply(stream, commit), ANNOUNCEMENT_WAIT_MS);
          commit.fallback.unref();
        }
      },
      (err: AgentwireError) => {
        if (commit.claimed) return;
        this.claim(lane, commit);
        // Through the chain, so a rejection keeps its place behind earlier commits' deliveries.
        this.step(stream, async () => {
          for (const p of batch) this.notifier.publish(stream, [], () => p.reject(err));
        });
      },
    );
    this.track(settled.finally(() => this.releaseIfIdle(stream, lane)));
  };

  /**
   * Announcements are ignored from now on, so commits still waiting for theirs are delivered from
   * their replies; settles once every commit has replied and every delivery has run.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (;;) {
      await Promise.allSettled([...this.busy]);
      await this.storage.settled();
      for (const [stream, lane] of this.lanes) {
        for (const commit of [...lane.awaiting]) this.deliverFromReply(stream, commit);
      }
      await Promise.allSettled([...this.busy]);
      const awaiting = [...this.lanes.values()].some((l) => l.awaiting.length > 0);
      if (this.busy.size === 0 && !this.storage.busy && !awaiting) break;
    }
    this.subscriber.disconnect();
  }

  stats(): RedisDeliveryStats {
    return { ...this.counters };
  }

  private lane(stream: string): Lane {
    let lane = this.lanes.get(stream);
    if (!lane) {
      lane = { awaiting: [], chain: Promise.resolve(), steps: 0 };
      this.lanes.set(stream, lane);
    }
    return lane;
  }

  private releaseIfIdle(stream: string, lane: Lane): void {
    const idle = lane.awaiting.length === 0 && lane.steps === 0;
    if (idle && this.lanes.get(stream) === lane) this.lanes.delete(stream);
  }

  private claim(lane: Lane, commit: Commit): void {
    commit.claimed = true;
    clearTimeout(commit.fallback);
    const i = lane.awaiting.indexOf(commit);
    if (i >= 0) lane.awaiting.splice(i, 1);
  }

  /** Delivers a commit from its reply, not waiting for its announcement (none, lost, or closing). */
  private deliverFromReply(stream: string, commit: Commit): void {
    if (commit.claimed) return;
    this.claim(this.lane(stream), commit);
    this.step(stream, async () => {
      let outcomes: AppendBatchResult[];
      try {
        outcomes = await commit.replied;
      } catch (err) {
        for (const p of commit.batch)
          this.notifier.publish(stream, [], () => p.reject(err as AgentwireError));
        return;
      }
      await this.deliverLocal(stream, commit.batch, outcomes);
    });
  }

  /** The subscriber lost its connection: announcements of commits in flight may never come. */
  private onSubscriberDown(): void {
    this.missed = true;
    for (const [stream, lane] of this.lanes) {
      for (const commit of [...lane.awaiting]) this.deliverFromReply(stream, commit);
    }
  }

  /**
   * After the subscriber is back: announcements published while it was down are lost for good, and
   * a stream may get no further commit to reveal its gap (its last events were acknowledged just
   * before Redis went down, or committed by another node meanwhile). So once subscribed again, every
   * stream this node tracks is compared with its head in Redis and the missing range delivered.
   */
  private async resync(): Promise<void> {
    this.missed = false;
    try {
      // Confirmed before the heads are read, so every commit after them is announced to this node.
      await this.subscriber.subscribe(this.storage.keys.channel);
      const heads = await this.storage.readHeads([...this.delivered.keys()]);
      for (const [stream, head] of heads) {
        this.step(stream, async () => {
          const known = this.delivered.get(stream);
          if (known !== undefined && head > known) await this.readOrSkip(stream, known, head);
        });
      }
    } catch {
      // Redis is down again (the next reconnection resyncs) or only the log connection is not back
      // yet: try again shortly.
      this.missed = true;
      setTimeout(() => {
        if (this.missed && this.ready && !this.closed) this.track(this.resync());
      }, RESYNC_RETRY_MS).unref();
    }
  }

  /** Queues `fn` on the stream's delivery chain. */
  private step(stream: string, fn: () => Promise<void>): void {
    const lane = this.lane(stream);
    lane.steps++;
    const run = lane.chain
      .then(fn)
      .catch((err: unknown) => this.notifierError(err))
      .finally(() => {
        lane.steps--;
        this.releaseIfIdle(stream, lane);
      });
    lane.chain = run;
    this.track(run);
  }

  /** Hands this node's committed appends to the listeners, then settles them, in order. */
  private async deliverLocal(
    stream: string,
    batch: PendingAppend[],
    outcomes: AppendBatchResult[],
  ): Promise<void> {
    for (const [i, p] of batch.entries()) {
      const outcome = outcomes[i]!;
      const events = outcome.appended;
      const first = events[0]?.seq;
      if (first === undefined) {
        this.notifier.publish(stream, [], () => p.resolve(outcome));
        continue;
      }
      // Commits of other nodes before this one that were not delivered (lost announcements).
      const known = this.delivered.get(stream);
      if (known !== undefined && known < first - 1) await this.fillGap(stream, first - 1);
      const after = this.delivered.get(stream) ?? 0;
      const fresh = first > after ? events : events.filter((e) => e.seq > after);
      if (fresh.length > 0) this.markDelivered(stream, fresh[fresh.length - 1]!.seq);
      this.notifier.publish(stream, fresh, () => p.resolve(outcome));
    }
  }

  private onAnnouncement(message: string): void {
    if (this.closed) return;
    const announcement = parseAnnouncement(message);
    if (!announcement) return;
    const { node, stream, first } = announcement;
    if (node === this.nodeId) {
      // Own announcements arrive in commit order, so this one is the oldest commit still awaiting.
      const lane = this.lanes.get(stream);
      const commit = lane?.awaiting.find((c) => !c.claimed);
      if (lane && commit) {
        this.claim(lane, commit);
        this.step(stream, async () => {
          let outcomes: AppendBatchResult[];
          try {
            outcomes = await commit.replied;
          } catch (err) {
            // The reply was lost but the commit happened: deliver it from the announcement.
            await this.catchUp(announcement);
            for (const p of commit.batch)
              this.notifier.publish(stream, [], () => p.reject(err as AgentwireError));
            return;
          }
          // Not the commit this announcement is about (its reply was lost): read the announced range.
          if (outcomes.find((o) => o.appended.length > 0)?.appended[0]?.seq !== first) {
            await this.catchUp(announcement);
          }
          await this.deliverLocal(stream, commit.batch, outcomes);
        });
        return;
      }
    } else {
      this.counters.remoteCommits++;
    }
    this.step(stream, () => this.catchUp(announcement));
  }

  /** Delivers what an announcement makes new; a stream seen first starts at its first seq. */
  private async catchUp({ stream, first, last, events }: Announcement): Promise<void> {
    const known = this.delivered.get(stream) ?? first - 1;
    if (last <= known) return;
    // With nobody listening there is nothing to read; just remember where the stream is.
    if (this.listenerCount === 0) {
      this.markDelivered(stream, last);
      return;
    }
    if (!events) {
      await this.readOrSkip(stream, known, last);
      return;
    }
    // Announcements lost before this one: their range comes first, or nothing does.
    if (known < first - 1 && !(await this.readOrSkip(stream, known, first - 1))) return;
    const after = this.delivered.get(stream) ?? known;
    const fresh = events.filter((e) => e.seq > after);
    this.markDelivered(stream, last);
    this.counters.remoteEvents += fresh.length;
    this.notifier.publish(stream, fresh, () => {});
  }

  /**
   * Delivers (after, through] from the log if a listener here wants the stream; else moves the
   * stream's position past it unread and tells the listeners it went by. False when a read failed.
   */
  private async readOrSkip(stream: string, after: number, through: number): Promise<boolean> {
    if (this.wanted(stream)) return this.deliverRange(stream, after, through);
    this.markDelivered(stream, through);
    this.counters.skippedRanges++;
    const interests = [...this.interests];
    this.notifier.publish(stream, [], () => {
      for (const { interest } of interests) {
        try {
          interest?.skipped(stream, through);
        } catch (err) {
          this.notifierError(err);
        }
      }
    });
    return true;
  }

  private wanted(stream: string): boolean {
    for (const { interest } of this.interests) {
      try {
        if (!interest || interest.wants(stream)) return true;
      } catch {
        return true;
      }
    }
    return false;
  }

  /**
   * Delivers what other nodes committed before this node's own commit at `through + 1`. Redis may
   * have gone down between that commit's reply and this read (its announcements lost with it):
   * delivering the own commit without them would skip seqs, so the read is tried again while Redis
   * comes back, holding this stream's later deliveries (and the commit's acknowledgement) behind it.
   * Past GAP_RETRIES the gap is left to the hub, which re-reads any gap it sees.
   */
  private async fillGap(stream: string, through: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const known = this.delivered.get(stream) ?? through;
      if (known >= through || (await this.readOrSkip(stream, known, through))) return;
      if (this.closed || attempt >= GAP_RETRIES) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 1000)));
    }
  }

  /**
   * Reads (after, through] from the log and delivers it; false when it could not read all of it.
   * A failed read delivers nothing more: the next commit of the stream tries again, and the hub
   * re-reads any gap it sees.
   */
  private async deliverRange(stream: string, after: number, through: number): Promise<boolean> {
    this.counters.rangeReads++;
    for (let from = after; from < through;) {
      let chunk: ReadResult;
      try {
        chunk = await this.storage.readRaw(stream, from, Math.min(READ_CHUNK, through - from));
      } catch {
        return false;
      }
      const events = chunk.events.filter((e) => e.seq <= through);
      if (events.length === 0) return false;
      from = events[events.length - 1]!.seq;
      this.markDelivered(stream, from);
      this.counters.remoteEvents += events.length;
      this.notifier.publish(stream, events, () => {});
    }
    return true;
  }

  private markDelivered(stream: string, seq: number): void {
    // Delete first so the map's insertion order is recency order.
    this.delivered.delete(stream);
    this.delivered.set(stream, seq);
    if (this.delivered.size > MAX_TRACKED_STREAMS) {
      const oldest = this.delivered.keys().next();
      if (!oldest.done) this.delivered.delete(oldest.value);
    }
  }

  private notifierError(err: unknown): void {
    process.emitWarning(`Redis log delivery failed: ${messageOf(err)}`, { code: 'AGENTWIRE_REDIS_DELIVERY' });
  }

  private track(p: Promise<unknown>): void {
    this.busy.add(p);
    void p.finally(() => this.busy.delete(p));
  }
}
