import { AgentwireError } from '@agentwire/protocol';
import { Redis } from 'ioredis';
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
import { messageOf, redactUrl } from '../error-text.js';
import { RedisDelivery, type PendingAppend, type RedisDeliveryStats } from './redis-delivery.js';
import { DEFAULT_REDIS_PREFIX } from './redis-keys.js';
import { RedisStorage, type RedisStorageStats } from './redis-storage.js';
import type { StorageHealth } from './storage-health.js';

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
}

export type RedisEngineStats = RedisStorageStats & RedisDeliveryStats;

const DEFAULT_MAX_BATCH_EVENTS = 1000;
export const DEFAULT_ANNOUNCE_MAX_BYTES = 64 * 1024;

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
      },
      delivery.onCommit,
    );
    this.health = this.storage.health;
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
        `Cannot open the Redis log at ${redactUrl(options.url)}: ${messageOf(err)}`,
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

  /** Whether both connections to Redis are up right now (false while ioredis reconnects). */
  get connected(): boolean {
    return this.storage.ready && this.delivery.ready;
  }

  stats(): RedisEngineStats {
    return { ...this.storage.stats(), ...this.delivery.stats() };
  }
}
