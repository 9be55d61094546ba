import { AgentwireError } from '@agentwire/protocol';
import type { Redis } from 'ioredis';
import { closedError, encodeInputs, newEpoch } from './codec.js';
import type {
  AppendBatchResult,
  AppendInput,
  AppendInterest,
  AppendListener,
  Checkpoint,
  LogEngine,
  ReadResult,
  RetentionPolicy,
  StreamHead,
  StreamInfo,
  TrimPlan,
} from './engine.js';
import { messageOf } from '../error-text.js';
import { connectRedis, parseRedisUrl, redactRedisUrl } from './redis-connection.js';
import { RedisDelivery, type PendingAppend, type RedisDeliveryStats } from './redis-delivery.js';
import { DEFAULT_REDIS_PREFIX } from './redis-keys.js';
import { DEFAULT_WAIT_TIMEOUT_MS, RedisStorage, type RedisStorageStats } from './redis-storage.js';
import type { StorageHealth } from './storage-health.js';

export interface RedisEngineOptions {
  /**
   * `redis://[:password@]host:port[/db]`, `rediss://` for TLS, or a primary found through Sentinel:
   * `redis+sentinel://[user:pass@]host1:port1,host2:port2/<masterName>[?db=N]` (`rediss+sentinel://`
   * for TLS). Every connection follows the primary after a failover (docs/scaling.md, "Sentinel").
   */
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
  /**
   * Most bytes of events (their stored text) an announcement carries to the other nodes, so they
   * deliver the commit without reading it back from Redis. A larger commit is announced by its
   * positions only and read back by the nodes whose listeners want its stream (`AppendInterest`).
   * 0 announces positions only. Default 65 536 (docs/limits.md).
   */
  announceMaxBytes?: number;
  /** Where errors thrown by append listeners go; defaults to a process warning. */
  onListenerError?: (err: unknown) => void;
  /**
   * Errors of the subscriber connection (announcements from other nodes). The log connection's
   * errors go to `health`, and operations fail with `storage_unavailable` meanwhile.
   */
  onConnectionError?: (err: Error) => void;
  /** While Redis fails, how often it is probed with a small write, in ms. Default 1000. */
  probeIntervalMs?: number;
  /**
   * How long one Redis command may take before it fails with `storage_unavailable`, in ms: a Redis
   * that accepts connections but does not answer (stopped, swapping, cut off) must not hold appends
   * forever. Default 5000.
   */
  commandTimeoutMs?: number;
  /**
   * Replicas that must confirm each group commit (Redis `WAIT`) before its appends are
   * acknowledged; fewer within `waitTimeoutMs` refuses them with `storage_unavailable` (a retry is
   * deduplicated by event id). 0 (default) acknowledges once the primary has applied the commit.
   */
  waitReplicas?: number;
  /** How long a group commit waits for `waitReplicas` confirmations, in ms. Default 1000. */
  waitTimeoutMs?: number;
}

export type RedisEngineStats = RedisStorageStats & RedisDeliveryStats;

const DEFAULT_MAX_BATCH_EVENTS = 1000;
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 5000;
export const DEFAULT_ANNOUNCE_MAX_BYTES = 64 * 1024;

/**
 * The client-side limit of one command. A WAIT for replicas is a command too, and Redis answers it
 * only at `waitTimeoutMs`: the limit stays a second beyond that, so a slow replica is reported as
 * too few confirmations rather than as a Redis that does not answer.
 */
function commandTimeoutOf(options: RedisEngineOptions): number {
  const limit = options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
  if (!(options.waitReplicas! > 0)) return limit;
  return Math.max(limit, (options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS) + 1000);
}

/**
 * The clustered log: every gateway node of a deployment opens the same Redis under the same prefix.
 * Two parts on two connections: `RedisStorage` keeps the events (group commits, reads, retention),
 * and `RedisDelivery` hears every node's commits announced (with their events, when small) and hands
 * them to this node's listeners in seq order, settling this node's appends once they are delivered.
 */
export class RedisEngine implements LogEngine {
  readonly kind = 'redis';
  readonly prefix: string;
  /** Whether Redis takes writes now: connection losses and refused writes are reported here. */
  readonly health: StorageHealth;
  private readonly storage: RedisStorage<PendingAppend>;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** When a connection was first seen down by `connectionReport`, until both are up again. */
  private downSince: number | undefined;

  private constructor(
    /** Tells this node's announcements from the others'; also names its Redis connections. */
    readonly nodeId: string,
    client: Redis,
    private readonly delivery: RedisDelivery,
    options: RedisEngineOptions,
  ) {
    this.prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.storage = new RedisStorage<PendingAppend>(
      nodeId,
      client,
      {
        prefix: this.prefix,
        dedupeWindowMs: Math.max(0, Math.floor(options.dedupeWindowMs ?? 0)) || 0,
        maxBatchEvents: options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS,
        announceMaxBytes:
          Math.max(0, Math.floor(options.announceMaxBytes ?? DEFAULT_ANNOUNCE_MAX_BYTES)) || 0,
        ...(options.probeIntervalMs !== undefined && { probeIntervalMs: options.probeIntervalMs }),
        ...(options.waitReplicas !== undefined && { waitReplicas: options.waitReplicas }),
        ...(options.waitTimeoutMs !== undefined && { waitTimeoutMs: options.waitTimeoutMs }),
      },
      delivery.onCommit,
    );
    this.health = this.storage.health;
  }

  /** Connects (failing with `unavailable` if Redis cannot be reached) and joins the cluster. */
  static async open(options: RedisEngineOptions): Promise<RedisEngine> {
    // Before connecting: a malformed URL is the operator's to fix, not a connection failure.
    const target = parseRedisUrl(options.url);
    const onError = options.onConnectionError ?? (() => {});
    const redisOptions = {
      lazyConnect: true,
      // While the connection is down, fail at once instead of queueing: a producer told
      // `storage_unavailable` retries with the same ids (appends are idempotent), where a queued
      // append would hang until ioredis gave up reconnecting. Commands in flight when the connection
      // drops fail at the drop rather than being re-sent after it (the producer's retry does that).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: commandTimeoutOf(options),
      connectTimeout: 5000,
    };
    const nodeId = newEpoch();
    // Named, so an operator can tell the nodes apart in CLIENT LIST.
    const client: Redis = connectRedis(target, {
      ...redisOptions,
      connectionName: `agentwire:${nodeId}:log`,
    });
    const subscriber = connectRedis(target, { ...redisOptions, connectionName: `agentwire:${nodeId}:sub` });
    // Until the engine exists; it then reports the log connection's errors to its health.
    client.on('error', onError);
    subscriber.on('error', onError);
    try {
      await Promise.all([client.connect(), subscriber.connect()]);
      const delivery = new RedisDelivery(nodeId, subscriber, options.onListenerError);
      const engine = new RedisEngine(nodeId, client, delivery, options);
      client.off('error', onError);
      await delivery.start(engine.storage);
      await engine.storage.ensureEpoch();
      return engine;
    } catch (err) {
      client.disconnect();
      subscriber.disconnect();
      throw new AgentwireError(
        'unavailable',
        `Cannot open the Redis log at ${redactRedisUrl(options.url)}: ${messageOf(err)}`,
      );
    }
  }

  append(stream: string, inputs: AppendInput[]): Promise<AppendBatchResult> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    let encoded: string[];
    try {
      encoded = encodeInputs(inputs);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) =>
      this.storage.enqueue(stream, { inputs, encoded, resolve, reject }),
    );
  }

  read(stream: string, afterSeq: number, limit: number): Promise<ReadResult> {
    return this.storage.read(stream, afterSeq, limit);
  }

  head(stream: string): Promise<StreamHead> {
    return this.storage.head(stream);
  }

  listStreams(options: { prefix?: string; limit: number }): Promise<StreamInfo[]> {
    return this.storage.listStreams(options);
  }

  onAppend(listener: AppendListener, interest?: AppendInterest): () => void {
    return this.delivery.onAppend(listener, interest);
  }

  retentionPlan(policy: RetentionPolicy, now: number): Promise<TrimPlan[]> {
    return this.storage.retentionPlan(policy, now);
  }

  trim(stream: string, throughSeq: number): Promise<number> {
    return this.storage.trim(stream, throughSeq);
  }

  putCheckpoint(stream: string, checkpoint: Checkpoint): Promise<void> {
    return this.storage.putCheckpoint(stream, checkpoint);
  }

  getCheckpoint(stream: string): Promise<Checkpoint | undefined> {
    return this.storage.getCheckpoint(stream);
  }

  /** Commits and delivers what was issued before, then disconnects. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.storage.close();
    this.closing = (async () => {
      await this.delivery.close();
      await this.storage.disconnect();
    })();
    return this.closing;
  }

  /**
   * Readiness's `redis` check: both connections up (the log's, and the Pub/Sub one that hears other
   * nodes' commits), else since when one is not and why.
   */
  connectionReport(): { ok: true } | { ok: false; cause: string; since: number } {
    if (this.connected) {
      this.downSince = undefined;
      return { ok: true };
    }
    this.downSince ??= Date.now();
    const cause = this.storage.ready ? 'subscriber_disconnected' : this.storage.disconnectCause;
    return { ok: false, cause, since: this.downSince };
  }

  /** Whether both connections to Redis are up right now (false while ioredis reconnects). */
  get connected(): boolean {
    return this.storage.ready && this.delivery.ready;
  }

  stats(): RedisEngineStats {
    return { ...this.storage.stats(), ...this.delivery.stats() };
  }
}
