import { AgentwireError, type AnyEnvelope } from '@agentwire/protocol';
import type { Redis } from 'ioredis';
import {
  appendedEnvelope,
  closedError,
  decodeTrace,
  encodeData,
  encodeTrace,
  makeEnvelope,
  newEpoch,
  readBounds,
} from './codec.js';
import type {
  AppendBatchResult,
  AppendInput,
  AppendResult,
  Checkpoint,
  ReadResult,
  RetentionPolicy,
  StreamHead,
  StreamInfo,
  TrimPlan,
} from './engine.js';
import { messageOf } from '../error-text.js';
import { redisKeys, type RedisKeys } from './redis-keys.js';
import { ReplicaWait } from './redis-replication.js';
import { APPEND, READ, runScript, TRIM } from './redis-scripts.js';
import { StorageHealth } from './storage-health.js';

/** One append call as it waits for its group commit: its inputs with their data already encoded. */
export interface QueuedAppend {
  inputs: AppendInput[];
  encoded: string[];
}

/** Sent when a group commit leaves for Redis; `replied` settles with the outcome of each call. */
export type CommitListener<T extends QueuedAppend> = (
  stream: string,
  batch: T[],
  replied: Promise<AppendBatchResult[]>,
) => void;

export interface RedisStorageOptions {
  prefix: string;
  dedupeWindowMs: number;
  maxBatchEvents: number;
  /** Most bytes of events an announcement carries; larger commits announce their positions only. */
  announceMaxBytes: number;
  probeIntervalMs?: number;
  /** Replicas that must confirm each group commit (WAIT) before it is acknowledged; 0 = none. */
  waitReplicas?: number;
  /** How long WAIT waits for them, in ms. Default 1000. */
  waitTimeoutMs?: number;
}

export interface RedisStorageStats {
  /** Append scripts that succeeded (each one a group commit of one stream). */
  commits: number;
  failedCommits: number;
  /** Append calls committed. */
  appends: number;
  /** Events newly stored by this node (duplicates excluded). */
  events: number;
  /** With `waitReplicas`: WAIT calls sent, and commits refused for want of replica confirmations. */
  replicaWaits: number;
  replicaRefusals: number;
}

type StreamEntry = [string, string[]];

const PAGE = 500;
const DEFAULT_WAIT_TIMEOUT_MS = 1000;
const TRIM_CHUNK = 1000;
const AGE_SCAN_CHUNK = 256;

/**
 * The log's data in Redis, on one connection: group commits, reads, the stream index, retention and
 * checkpoints. It knows nothing of listeners; whoever hands it appends hears of each group commit
 * as it is sent (see `RedisDelivery`).
 *
 * Per stream, a Redis Stream holds the events (entry id `<seq>-0`), a hash maps event ids to seqs
 * (the dedupe index) and a hash holds the head. One Lua script per group commit checks ids, assigns
 * seqs, writes, and PUBLISHes the commit (its position, and its events when they are small enough);
 * being atomic, it keeps seqs gapless when several nodes append to one stream at once.
 *
 * Appends to a stream are group-committed: while one script call for a stream is in flight, further
 * appends to that stream queue and go together in the next call. With at most one call in flight per
 * stream, call order is seq order even if Redis must be re-sent a script it forgot.
 */
export class RedisStorage<T extends QueuedAppend = QueuedAppend> {
  /** Whether Redis takes writes now: connection losses and refused writes are reported here. */
  readonly health: StorageHealth;
  readonly keys: RedisKeys;
  private readonly candidateEpoch = newEpoch();
  private readonly dedupeWindowMs: number;
  private readonly maxBatchEvents: number;
  private readonly announceMaxBytes: number;
  /** Per stream: appends waiting for the next group commit, and whether one is in flight. */
  private readonly lanes = new Map<string, { queue: T[]; inflight: boolean }>();
  private readonly inflight = new Set<Promise<unknown>>();
  /** Why the connection is down, while it is: the cause of commands failing meanwhile. */
  private connectionError: Error | undefined;
  private closed = false;
  private readonly replicaWait: ReplicaWait | undefined;
  private readonly counters = { commits: 0, failedCommits: 0, appends: 0, events: 0 };

  constructor(
    /** Names this node in its announcements and its health probe key. */
    private readonly nodeId: string,
    private readonly client: Redis,
    options: RedisStorageOptions,
    private readonly onCommit: CommitListener<T>,
  ) {
    this.keys = redisKeys(options.prefix);
    this.dedupeWindowMs = options.dedupeWindowMs;
    this.maxBatchEvents = options.maxBatchEvents;
    const replicas = Math.floor(options.waitReplicas ?? 0);
    if (replicas > 0) {
      const timeout = Math.max(0, Math.floor(options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS));
      // Redis reads a WAIT timeout of 0 as "forever"; an append must not hang on a lost replica.
      this.replicaWait = new ReplicaWait(client, replicas, Math.max(1, timeout));
    }
    this.announceMaxBytes = options.announceMaxBytes;
    this.health = new StorageHealth(async () => {
      await this.client.set(this.keys.probe(nodeId), String(Date.now()), 'PX', 60_000);
    }, options.probeIntervalMs);
    client.on('error', (err: Error) => {
      this.connectionError = err;
      this.health.fail(err, 'Redis connection error');
    });
    // Redis killed or restarted closes the socket without an error; commands fail meanwhile, and
    // their cause is the closed connection until a reconnect attempt reports a better one.
    client.on('close', () => (this.connectionError ??= connectionClosed()));
    client.on('ready', () => (this.connectionError = undefined));
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** The code of what took the connection down (`ECONNREFUSED`, `ECONNCLOSED`), while it is down. */
  get disconnectCause(): string {
    const code = (this.connectionError as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' ? code : 'disconnected';
  }

  /** Queues one append call for the stream's next group commit. */
  enqueue(stream: string, append: T): void {
    let lane = this.lanes.get(stream);
    if (!lane) {
      lane = { queue: [], inflight: false };
      this.lanes.set(stream, lane);
    }
    lane.queue.push(append);
    if (!lane.inflight) this.flush(stream, lane);
  }

  /** Sends the stream's queued appends as one group commit. */
  private flush(stream: string, lane: { queue: T[]; inflight: boolean }): void {
    const batch: T[] = [];
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
      this.announceMaxBytes,
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
      async (reply) => {
        const outcomes = this.outcomes(stream, batch, reply);
        // Duplicates too: the first attempt of a retried event may itself be unconfirmed.
        if (this.replicaWait) await this.replicaWait.confirm();
        return outcomes;
      },
      (err: unknown) => {
        throw this.storageError(err, `The Redis log could not commit ${batch.length} appends to ${stream}`);
      },
    );
    this.onCommit(stream, batch, replied);
    const settled = replied
      .then(
        (outcomes) => {
          this.health.succeeded();
          this.counters.commits++;
          this.counters.appends += batch.length;
          for (const o of outcomes) this.counters.events += o.appended.length;
        },
        () => {
          this.counters.failedCommits++;
        },
      )
      .finally(() => {
        lane.inflight = false;
        if (lane.queue.length > 0) this.flush(stream, lane);
        else if (this.lanes.get(stream) === lane) this.lanes.delete(stream);
      });
    this.track(settled);
  }

  private outcomes(stream: string, batch: T[], reply: unknown): AppendBatchResult[] {
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

  /**
   * Events of (after, after + limit], unguarded: delivery reads with it while the engine closes.
   * Fails with the raw error of the connection or the script.
   */
  async readRaw(stream: string, after: number, limit: number): Promise<ReadResult> {
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

  /**
   * The heads of `streams` (0 for a stream Redis does not have), pipelined in chunks; unguarded
   * like `readRaw`. Fails with the raw error of the connection.
   */
  async readHeads(streams: readonly string[]): Promise<Map<string, number>> {
    const heads = new Map<string, number>();
    for (let i = 0; i < streams.length; i += PAGE) {
      const names = streams.slice(i, i + PAGE);
      const pipeline = this.client.pipeline();
      for (const name of names) pipeline.hget(this.keys.meta(name), 'head');
      const rows = await execPipeline(pipeline);
      names.forEach((name, j) => heads.set(name, Number(rows[j] ?? 0) || 0));
    }
    return heads;
  }

  /** The deployment epoch, created if this key-space has none (a new deployment, or Redis lost it). */
  async ensureEpoch(): Promise<string> {
    await this.client.set(this.keys.epoch, this.candidateEpoch, 'NX');
    const epoch = await this.client.get(this.keys.epoch);
    if (epoch === null) throw new AgentwireError('internal', 'The Redis log has no epoch.');
    return epoch;
  }

  /** Group commits still in flight (appends queued before close are committed, not dropped). */
  get busy(): boolean {
    return this.inflight.size > 0 || this.lanes.size > 0;
  }

  /** Settles once the group commits in flight now have replied. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  /** Refuses further reads and writes; the connection stays until `disconnect`. */
  close(): void {
    this.closed = true;
    this.health.close();
  }

  async disconnect(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  stats(): RedisStorageStats {
    const waits = this.replicaWait?.counters;
    return { ...this.counters, replicaWaits: waits?.waits ?? 0, replicaRefusals: waits?.refused ?? 0 };
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

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private run<R>(fn: () => Promise<R>): Promise<R> {
    if (this.closed) return Promise.reject(closedError('redis'));
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
    if (!reply && messageOf(err) === COMMAND_TIMED_OUT) return this.health.fail(timedOut(), context);
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

/** What ioredis rejects a command with once `commandTimeout` has passed without a reply. */
const COMMAND_TIMED_OUT = 'Command timed out';

function timedOut(): Error {
  return Object.assign(new Error('Redis did not answer within the command timeout'), { code: 'ETIMEDOUT' });
}

function connectionClosed(): Error {
  return Object.assign(new Error('The connection to Redis closed'), { code: 'ECONNCLOSED' });
}

/** Reply errors that mean "this Redis cannot take writes now", by their leading code. */
const STORAGE_REPLIES = /^(OOM|READONLY|MISCONF|LOADING|MASTERDOWN|NOREPLICAS|BUSY|CLUSTERDOWN|TRYAGAIN)\b/;
