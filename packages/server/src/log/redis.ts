import { AgentwireError, type AnyEnvelope } from '@agentwire/protocol';
import { Redis } from 'ioredis';
import {
  appendedEnvelope,
  decodeTrace,
  encodeTrace,
  closedError,
  encodeData,
  encodeInputs,
  makeEnvelope,
  newEpoch,
  readBounds,
} from './codec.js';
import type {
  AppendBatchResult,
  AppendInput,
  AppendListener,
  AppendResult,
  Checkpoint,
  LogEngine,
  ReadResult,
  RetentionPolicy,
  StreamHead,
  StreamInfo,
  TrimPlan,
} from './engine.js';
import { messageOf, redactUrl } from '../error-text.js';
import { AppendNotifier } from './notifier.js';
import { DEFAULT_REDIS_PREFIX, redisKeys, type RedisKeys } from './redis-keys.js';
import { APPEND, READ, runScript, TRIM } from './redis-scripts.js';
import { StorageHealth } from './storage-health.js';

export interface RedisEngineOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** Prefix of every key and channel; nodes sharing a prefix form one cluster. Default `agentwire:`. */
  prefix?: string;
  /**
   * Extra dedupe after retention: an id whose event was trimmed is still recognised as a duplicate
   * until this many ms after the event's time. 0 (default) keeps the LogEngine contract, where the
   * dedupe window is exactly the retained history. Ids still in the stream are deduped either way.
   */
  dedupeWindowMs?: number;
  /** Most events sent to Redis in one group commit (one script call). Default 1000. */
  maxBatchEvents?: number;
  /** Where errors thrown by append listeners go; defaults to a process warning. */
  onListenerError?: (err: unknown) => void;
  /**
   * Errors of the subscriber connection (announcements from other nodes). The log connection's
   * errors go to `health`, and operations fail with `storage_unavailable` meanwhile.
   */
  onConnectionError?: (err: Error) => void;
  /** While Redis fails, how often it is probed with a small write, in ms. Default 1000. */
  probeIntervalMs?: number;
}

export interface RedisEngineStats {
  /** Append scripts that succeeded (each one a group commit of one stream). */
  commits: number;
  failedCommits: number;
  /** Append calls committed. */
  appends: number;
  /** Events newly stored by this node (duplicates excluded). */
  events: number;
  /** Appends announced by other nodes. */
  remoteCommits: number;
  /** Events of other nodes delivered to this node's listeners. */
  remoteEvents: number;
}

interface PendingAppend {
  inputs: AppendInput[];
  encoded: string[];
  resolve: (result: AppendBatchResult) => void;
  reject: (err: AgentwireError) => void;
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

/** Per-stream state: appends waiting for the next group commit, commits awaiting delivery. */
interface Lane {
  queue: PendingAppend[];
  inflight: boolean;
  /** This node's commits not yet delivered, in commit order (= the order of their announcements). */
  awaiting: Commit[];
  /** Deliveries of this stream run one after another, so listeners hear its seqs in order. */
  chain: Promise<void>;
  steps: number;
}

type StreamEntry = [string, string[]];

const DEFAULT_MAX_BATCH_EVENTS = 1000;
const PAGE = 500;
const READ_CHUNK = 1000;
const TRIM_CHUNK = 1000;
const AGE_SCAN_CHUNK = 256;
/** Streams whose last delivered seq is remembered; beyond this the least recent is forgotten. */
const MAX_TRACKED_STREAMS = 100_000;
/** How long a commit waits for its own announcement before it is delivered from the reply. */
const ANNOUNCEMENT_WAIT_MS = 2000;

/**
 * The clustered log: every gateway node of a deployment opens the same Redis under the same prefix.
 *
 * Per stream, a Redis Stream holds the events (entry id `<seq>-0`), a hash maps event ids to seqs
 * (the dedupe index) and a hash holds the head. One Lua script per group commit checks ids, assigns
 * seqs, writes, and PUBLISHes `[node, stream, first, last]`; being atomic, it keeps seqs gapless
 * when several nodes append to one stream at once.
 *
 * Appends to a stream are group-committed: while one script call for a stream is in flight, further
 * appends to that stream queue and go together in the next call. With at most one call in flight per
 * stream, call order is seq order even if Redis must be re-sent a script it forgot.
 *
 * Delivery follows the announcements. Redis hands a subscriber the messages of one channel in the
 * order they were published, and each is published inside its atomic commit, so the announcements
 * arrive in commit order, this node's own included. Listeners hear another node's commit by reading
 * the announced range back, and this node's own commit when its announcement arrives (its events
 * are already in hand). Each stream's deliveries form one chain that remembers the last seq
 * delivered, so a seq is heard at most once and never before a smaller one; if announcements were
 * lost (the subscriber reconnected), the next commit of the stream reads the missing range first.
 * Should this node's own announcement not arrive (the subscriber is down), its commit is delivered
 * from the reply instead, after a short wait or at once when the subscriber is known to be down.
 */
export class RedisEngine implements LogEngine {
  readonly kind = 'redis';
  readonly prefix: string;
  /** Whether Redis takes writes now: connection losses and refused writes are reported here. */
  readonly health: StorageHealth;
  private readonly keys: RedisKeys;
  private readonly candidateEpoch = newEpoch();
  private readonly dedupeWindowMs: number;
  private readonly maxBatchEvents: number;
  private readonly notifier: AppendNotifier;
  private readonly lanes = new Map<string, Lane>();
  private readonly delivered = new Map<string, number>();
  private readonly busy = new Set<Promise<unknown>>();
  private listenerCount = 0;
  /** Why the log connection is down, while it is: the cause of commands failing meanwhile. */
  private connectionError: Error | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly counters: RedisEngineStats = {
    commits: 0,
    failedCommits: 0,
    appends: 0,
    events: 0,
    remoteCommits: 0,
    remoteEvents: 0,
  };

  private constructor(
    /** Tells this node's announcements from the others'; also names its Redis connections. */
    readonly nodeId: string,
    private readonly client: Redis,
    private readonly subscriber: Redis,
    options: RedisEngineOptions,
  ) {
    this.prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.keys = redisKeys(this.prefix);
    this.dedupeWindowMs = Math.max(0, Math.floor(options.dedupeWindowMs ?? 0)) || 0;
    this.maxBatchEvents = options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS;
    this.notifier = new AppendNotifier(options.onListenerError);
    this.health = new StorageHealth(async () => {
      await this.client.set(this.keys.probe(nodeId), String(Date.now()), 'PX', 60_000);
    }, options.probeIntervalMs);
    client.on('error', (err: Error) => {
      this.connectionError = err;
      this.health.fail(err, 'Redis connection error');
    });
    client.on('ready', () => (this.connectionError = undefined));
  }

  /** Connects (failing with `unavailable` if Redis cannot be reached) and joins the cluster. */
  static async open(options: RedisEngineOptions): Promise<RedisEngine> {
    const onError = options.onConnectionError ?? (() => {});
    const redisOptions = {
      lazyConnect: true,
      // Fail a command after a few reconnect attempts instead of holding an append for minutes.
      maxRetriesPerRequest: 2,
      connectTimeout: 5000,
    };
    const nodeId = newEpoch();
    // Named, so an operator can tell the nodes apart in CLIENT LIST.
    const client = new Redis(options.url, { ...redisOptions, connectionName: `agentwire:${nodeId}:log` });
    const subscriber = new Redis(options.url, { ...redisOptions, connectionName: `agentwire:${nodeId}:sub` });
    // Until the engine exists; it then reports the log connection's errors to its health.
    client.on('error', onError);
    subscriber.on('error', onError);
    try {
      await Promise.all([client.connect(), subscriber.connect()]);
      const engine = new RedisEngine(nodeId, client, subscriber, options);
      client.off('error', onError);
      await engine.start();
      return engine;
    } catch (err) {
      client.disconnect();
      subscriber.disconnect();
      throw new AgentwireError(
        'unavailable',
        `Cannot open the Redis log at ${redactUrl(options.url)}: ${messageOf(err)}`,
      );
    }
  }

  private async start(): Promise<void> {
    const channel = this.keys.channel;
    this.subscriber.on('message', (from: string, message: string) => {
      if (from === channel) this.onAnnouncement(message);
    });
    this.subscriber.on('close', () => this.onSubscriberDown());
    // ioredis re-subscribes after a reconnect; announcements missed meanwhile are filled in by the
    // next commit of the same stream (and the hub re-reads on any gap it sees).
    await this.subscriber.subscribe(channel);
    await this.ensureEpoch();
  }

  append(stream: string, inputs: AppendInput[]): Promise<AppendBatchResult> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    let encoded: string[];
    try {
      encoded = encodeInputs(inputs);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const lane = this.lane(stream);
      lane.queue.push({ inputs, encoded, resolve, reject });
      if (!lane.inflight) this.flush(stream, lane);
    });
  }

  read(stream: string, afterSeq: number, limit: number): Promise<ReadResult> {
    return this.run(() => {
      const bounds = readBounds(afterSeq, limit);
      return this.readRaw(stream, bounds.after, bounds.limit);
    });
  }

  head(stream: string): Promise<StreamHead> {
    return this.run(async () => {
      const { events: _none, ...head } = await this.readRaw(stream, 0, 0);
      return head;
    });
  }

  listStreams(options: { prefix?: string; limit: number }): Promise<StreamInfo[]> {
    return this.run(async () => {
      const limit = readBounds(0, options.limit).limit;
      const prefix = options.prefix ?? '';
      const names: string[] = [];
      // The index is ordered by update time, not name, so a prefix means a walk; streams are few
      // compared with events, and the walk stops as soon as `limit` names match.
      for (let start = 0; names.length < limit; start += PAGE) {
        const page = await this.client.zrevrange(this.keys.index, start, start + PAGE - 1);
        for (const name of page) {
          if (name.startsWith(prefix) && names.length < limit) names.push(name);
        }
        if (page.length < PAGE) break;
      }
      if (names.length === 0) return [];
      const pipeline = this.client.pipeline();
      for (const name of names)
        pipeline.hmget(this.keys.meta(name), 'epoch', 'head', 'first', 'createdAt', 'updatedAt');
      const rows = await execPipeline(pipeline);
      const infos: StreamInfo[] = [];
      names.forEach((name, i) => {
        const [epoch, head, first, createdAt, updatedAt] = (rows[i] ?? []) as (string | null)[];
        if (!epoch) return; // listed in the index but its meta is gone: nothing to report
        infos.push({
          stream: name,
          epoch,
          head: Number(head),
          first: Number(first),
          createdAt: Number(createdAt),
          updatedAt: Number(updatedAt),
        });
      });
      return infos;
    });
  }

  onAppend(listener: AppendListener): () => void {
    const remove = this.notifier.add(listener);
    this.listenerCount++;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.listenerCount--;
      remove();
    };
  }

  retentionPlan(policy: RetentionPolicy, now: number): Promise<TrimPlan[]> {
    return this.run(async () => {
      const maxEvents = policy.maxEvents ?? 0;
      const maxAgeMs = policy.maxAgeMs ?? 0;
      const plans: TrimPlan[] = [];
      if (!(maxEvents > 0) && !(maxAgeMs > 0)) return plans;
      const seen = new Set<string>();
      for (let start = 0; ; start += PAGE) {
        const page = (
          await this.client.zrange(this.keys.index, String(start), String(start + PAGE - 1))
        ).filter((name) => !seen.has(name));
        for (const name of page) seen.add(name);
        if (page.length > 0) plans.push(...(await this.planPage(page, maxEvents, maxAgeMs, now)));
        if (page.length < PAGE) break;
      }
      return plans;
    });
  }

  trim(stream: string, throughSeq: number): Promise<number> {
    return this.run(async () => {
      let through = Math.floor(throughSeq);
      // Written so that NaN trims nothing; the script clamps to the head.
      if (!(through >= 1)) return 0;
      if (!Number.isSafeInteger(through)) through = Number.MAX_SAFE_INTEGER;
      const window = this.dedupeWindowMs;
      let total = 0;
      for (;;) {
        const reply = (await runScript(
          this.client,
          TRIM,
          [this.keys.meta(stream), this.keys.events(stream), this.keys.ids(stream)],
          [through, TRIM_CHUNK, window > 0 ? this.keys.tombstones(stream) : '', window, Date.now()],
        )) as [number, number];
        total += reply[0];
        if (reply[1] !== 1) return total;
      }
    });
  }

  putCheckpoint(stream: string, checkpoint: Checkpoint): Promise<void> {
    return this.run(async () => {
      const state = encodeData(checkpoint.state);
      await this.client.hset(this.keys.checkpoint(stream), { seq: String(checkpoint.seq), state });
    });
  }

  getCheckpoint(stream: string): Promise<Checkpoint | undefined> {
    return this.run(async () => {
      const [seq, state] = await this.client.hmget(this.keys.checkpoint(stream), 'seq', 'state');
      if (seq == null || state == null) return undefined;
      return { seq: Number(seq), state: JSON.parse(state) as unknown };
    });
  }

  /** Commits and delivers what was issued before, then disconnects. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.health.close();
    this.closing = (async () => {
      // Announcements are ignored from now on, so commits still waiting for theirs are delivered
      // from their replies; loop until every commit has replied and every delivery has run.
      for (;;) {
        await Promise.allSettled([...this.busy]);
        for (const [stream, lane] of this.lanes) {
          for (const commit of [...lane.awaiting]) this.deliverFromReply(stream, commit);
        }
        await Promise.allSettled([...this.busy]);
        if (this.busy.size === 0 && [...this.lanes.values()].every((l) => l.awaiting.length === 0)) break;
      }
      this.subscriber.disconnect();
      await this.client.quit().catch(() => this.client.disconnect());
    })();
    return this.closing;
  }

  /** Whether both connections to Redis are up right now (false while ioredis reconnects). */
  get connected(): boolean {
    return this.client.status === 'ready' && this.subscriber.status === 'ready';
  }

  stats(): RedisEngineStats {
    return { ...this.counters };
  }

  // ---- appending -------------------------------------------------------------------------------

  private lane(stream: string): Lane {
    let lane = this.lanes.get(stream);
    if (!lane) {
      lane = { queue: [], inflight: false, awaiting: [], chain: Promise.resolve(), steps: 0 };
      this.lanes.set(stream, lane);
    }
    return lane;
  }

  private releaseIfIdle(stream: string, lane: Lane): void {
    const idle = lane.queue.length === 0 && !lane.inflight && lane.awaiting.length === 0 && lane.steps === 0;
    if (idle && this.lanes.get(stream) === lane) this.lanes.delete(stream);
  }

  /** Sends the stream's queued appends as one group commit. */
  private flush(stream: string, lane: Lane): void {
    const batch: PendingAppend[] = [];
    let events = 0;
    while (lane.queue.length > 0) {
      const next = lane.queue[0]!;
      if (batch.length > 0 && events + next.inputs.length > this.maxBatchEvents) break;
      batch.push(lane.queue.shift()!);
      events += next.inputs.length;
    }
    lane.inflight = true;
    const args: (string | number)[] = [
      this.candidateEpoch,
      Date.now(),
      this.keys.channel,
      this.nodeId,
      this.dedupeWindowMs > 0 ? this.keys.tombstones(stream) : '',
      stream,
      batch.length,
    ];
    for (const p of batch) {
      args.push(p.inputs.length);
      p.inputs.forEach((input, i) =>
        args.push(input.id, input.type, input.time, p.encoded[i] ?? 'null', encodeTrace(input.trace) ?? ''),
      );
    }
    const keys = [
      this.keys.meta(stream),
      this.keys.events(stream),
      this.keys.ids(stream),
      this.keys.index,
      this.keys.epoch,
    ];
    const replied = runScript(this.client, APPEND, keys, args).then(
      (reply) => this.outcomes(stream, batch, reply),
      (err: unknown) => {
        throw this.storageError(err, `The Redis log could not commit ${batch.length} appends to ${stream}`);
      },
    );
    const commit: Commit = { batch, replied, claimed: false, fallback: undefined };
    lane.awaiting.push(commit);
    const settled = replied
      .then(
        (outcomes) => {
          this.health.succeeded();
          this.counters.commits++;
          this.counters.appends += batch.length;
          let stored = 0;
          for (const o of outcomes) stored += o.appended.length;
          this.counters.events += stored;
          if (commit.claimed) return;
          // Nothing stored means nothing announced: settle now, behind earlier deliveries.
          if (stored === 0 || this.subscriber.status !== 'ready') this.deliverFromReply(stream, commit);
          else {
            commit.fallback = setTimeout(() => this.deliverFromReply(stream, commit), ANNOUNCEMENT_WAIT_MS);
            commit.fallback.unref();
          }
        },
        (err: AgentwireError) => {
          this.counters.failedCommits++;
          if (commit.claimed) return;
          this.claim(lane, commit);
          // Through the chain, so a rejection keeps its place behind earlier commits' deliveries.
          this.step(stream, async () => {
            for (const p of batch) this.notifier.publish(stream, [], () => p.reject(err));
          });
        },
      )
      .finally(() => {
        lane.inflight = false;
        if (lane.queue.length > 0) this.flush(stream, lane);
        else this.releaseIfIdle(stream, lane);
      });
    this.track(settled);
  }

  private outcomes(stream: string, batch: PendingAppend[], reply: unknown): AppendBatchResult[] {
    if (!Array.isArray(reply) || typeof reply[0] !== 'string') {
      throw new AgentwireError('internal', 'The Redis append script returned an unexpected reply.');
    }
    const epoch = reply[0];
    let pos = 1;
    return batch.map((p) => {
      const results: AppendResult[] = [];
      const appended: AnyEnvelope[] = [];
      p.inputs.forEach((input, i) => {
        const n = Number(reply[pos++]);
        if (n < 0) {
          results.push({ id: input.id, seq: -n, duplicate: true });
          return;
        }
        results.push({ id: input.id, seq: n, duplicate: false });
        appended.push(appendedEnvelope(stream, epoch, n, input, p.encoded[i] ?? 'null'));
      });
      return { stream, epoch, results, appended };
    });
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
    for (const [stream, lane] of this.lanes) {
      for (const commit of [...lane.awaiting]) this.deliverFromReply(stream, commit);
    }
  }

  // ---- delivering --------------------------------------------------------------------------------

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
      if (known !== undefined && known < first - 1) await this.deliverRange(stream, known, first - 1);
      const after = this.delivered.get(stream) ?? 0;
      const fresh = first > after ? events : events.filter((e) => e.seq > after);
      if (fresh.length > 0) this.markDelivered(stream, fresh[fresh.length - 1]!.seq);
      this.notifier.publish(stream, fresh, () => p.resolve(outcome));
    }
  }

  private onAnnouncement(message: string): void {
    if (this.closed) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (!Array.isArray(parsed) || parsed.length !== 4) return;
    const [node, stream, first, last] = parsed as unknown[];
    if (typeof stream !== 'string' || typeof first !== 'number' || typeof last !== 'number') return;
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
            // The reply was lost but the commit happened: deliver it from the log.
            await this.catchUp(stream, first, last);
            for (const p of commit.batch)
              this.notifier.publish(stream, [], () => p.reject(err as AgentwireError));
            return;
          }
          // Not the commit this announcement is about (its reply was lost): read the announced range.
          if (outcomes.find((o) => o.appended.length > 0)?.appended[0]?.seq !== first) {
            await this.catchUp(stream, first, last);
          }
          await this.deliverLocal(stream, commit.batch, outcomes);
        });
        return;
      }
    } else {
      this.counters.remoteCommits++;
    }
    this.step(stream, () => this.catchUp(stream, first, last));
  }

  /** Delivers what an announcement of (first..last) makes new; a stream seen first starts there. */
  private async catchUp(stream: string, first: number, last: number): Promise<void> {
    const known = this.delivered.get(stream) ?? first - 1;
    if (last <= known) return;
    // With nobody listening there is nothing to read; just remember where the stream is.
    if (this.listenerCount === 0) {
      this.markDelivered(stream, last);
      return;
    }
    await this.deliverRange(stream, known, last);
  }

  /**
   * Reads (after, through] from the log and delivers it. A failed read delivers nothing more: the
   * next commit of the stream tries again, and the hub re-reads any gap it sees.
   */
  private async deliverRange(stream: string, after: number, through: number): Promise<void> {
    for (let from = after; from < through;) {
      let chunk: ReadResult;
      try {
        chunk = await this.readRaw(stream, from, Math.min(READ_CHUNK, through - from));
      } catch {
        return;
      }
      const events = chunk.events.filter((e) => e.seq <= through);
      if (events.length === 0) return;
      from = events[events.length - 1]!.seq;
      this.markDelivered(stream, from);
      this.counters.remoteEvents += events.length;
      this.notifier.publish(stream, events, () => {});
    }
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

  // ---- reading -----------------------------------------------------------------------------------

  private async readRaw(stream: string, after: number, limit: number): Promise<ReadResult> {
    const reply = (await runScript(
      this.client,
      READ,
      [this.keys.meta(stream), this.keys.events(stream), this.keys.epoch],
      [after, limit],
    )) as [string | null, number, number, StreamEntry[]];
    const [stored, head, first, entries] = reply;
    const epoch = stored ?? (await this.ensureEpoch());
    const events = entries.map((entry) => toEnvelope(stream, epoch, entry));
    return { stream, epoch, head: Number(head), first: Number(first), events };
  }

  /** The deployment epoch, created if this key-space has none (a new deployment, or Redis lost it). */
  private async ensureEpoch(): Promise<string> {
    await this.client.set(this.keys.epoch, this.candidateEpoch, 'NX');
    const epoch = await this.client.get(this.keys.epoch);
    if (epoch === null) throw new AgentwireError('internal', 'The Redis log has no epoch.');
    return epoch;
  }

  private async planPage(
    names: string[],
    maxEvents: number,
    maxAgeMs: number,
    now: number,
  ): Promise<TrimPlan[]> {
    const heads = this.client.pipeline();
    for (const name of names) heads.hmget(this.keys.meta(name), 'head', 'first');
    const rows = await execPipeline(heads);
    const candidates: { stream: string; head: number; first: number; through: number }[] = [];
    names.forEach((stream, i) => {
      const [head, first] = ((rows[i] ?? []) as (string | null)[]).map(Number) as [number, number];
      if (!(head >= first)) return;
      candidates.push({ stream, head, first, through: maxEvents > 0 ? head - maxEvents : 0 });
    });
    if (maxAgeMs > 0) {
      const cutoff = now - maxAgeMs;
      // Only a prefix can be dropped: find the first event young enough to keep. The scan covers only
      // events that are about to be trimmed, so its cost is paid once.
      for (const c of candidates) {
        const young = await this.firstYoung(c.stream, c.first, cutoff);
        c.through = Math.max(c.through, young === undefined ? c.head : young - 1);
      }
    }
    return candidates
      .filter((c) => c.through >= c.first)
      .map((c) => ({ stream: c.stream, throughSeq: c.through }));
  }

  private async firstYoung(stream: string, first: number, cutoff: number): Promise<number | undefined> {
    for (let from = first; ;) {
      const entries = (await this.client.xrange(
        this.keys.events(stream),
        `${from}-0`,
        '+',
        'COUNT',
        AGE_SCAN_CHUNK,
      )) as StreamEntry[];
      for (const entry of entries) {
        const seq = seqOf(entry[0]);
        if (Number(field(entry[1], 'm')) >= cutoff) return seq;
        from = seq + 1;
      }
      if (entries.length < AGE_SCAN_CHUNK) return undefined;
    }
  }

  // ---- plumbing ----------------------------------------------------------------------------------

  private track(p: Promise<unknown>): void {
    this.busy.add(p);
    void p.finally(() => this.busy.delete(p));
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    return fn().catch((err: unknown) => {
      throw this.storageError(err, 'Redis log error');
    });
  }

  /**
   * Not reaching Redis, or Redis refusing writes for a reason of its own (out of memory, a
   * read-only replica, a failed snapshot, still loading), is a storage failure: reported to
   * `health` and refused with `storage_unavailable`, which tells a producer to retry later, safely,
   * since appends are idempotent by event id. Any other refusal of a command is a bug: `internal`.
   */
  private storageError(err: unknown, context: string): AgentwireError {
    if (err instanceof AgentwireError) return err;
    const reply = err instanceof Error && err.name === 'ReplyError';
    if (!reply && this.connectionError && this.client.status !== 'ready') {
      // A command given up on (MaxRetriesPerRequestError) while disconnected: the cause is the connection's.
      return this.health.fail(this.connectionError, `${context}: ${messageOf(err)}`);
    }
    if (!reply || STORAGE_REPLIES.test(messageOf(err))) return this.health.fail(err, context);
    return new AgentwireError('internal', `${context}: ${messageOf(err)}`);
  }
}

function toEnvelope(stream: string, epoch: string, entry: StreamEntry): AnyEnvelope {
  const [entryId, fields] = entry;
  return makeEnvelope(
    stream,
    epoch,
    seqOf(entryId),
    field(fields, 'i') ?? '',
    field(fields, 't') ?? '',
    Number(field(fields, 'm')),
    field(fields, 'd') ?? 'null',
    decodeTrace(field(fields, 'c')),
  );
}

function seqOf(entryId: string): number {
  return Number.parseInt(entryId, 10);
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

async function execPipeline(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** Reply errors that mean "this Redis cannot take writes now", by their leading code. */
const STORAGE_REPLIES = /^(OOM|READONLY|MISCONF|LOADING|MASTERDOWN|NOREPLICAS|BUSY|CLUSTERDOWN|TRYAGAIN)\b/;
