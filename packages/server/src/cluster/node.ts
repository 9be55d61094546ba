import { randomBytes } from 'node:crypto';
import { AgentwireError } from '@agentwire/protocol';
import type { Redis } from 'ioredis';
import { messageOf } from '../error-text.js';
import { connectRedis } from '../log/redis-connection.js';
import { clusterKeys, type ClusterKeys } from './keys.js';

export interface ClusterNodeOptions {
  /**
   * The Redis the log uses (`redis://…`, `redis+sentinel://…`); the cluster's coordination lives
   * next to the log and follows its primary after a failover.
   */
  url: string;
  /** The log's key prefix: nodes sharing it are one cluster. */
  prefix: string;
  /** This node's id; the Redis engine's own id when there is one, so logs name nodes alike. */
  nodeId?: string;
  onConnectionError?: (err: Error) => void;
}

/** What one node sends another over its inbox channel, by kind `k`; the receiver checks the shape. */
export interface InboxMessage {
  k: string;
}

/**
 * This gateway's membership in the cluster: a Redis connection for commands and one subscribed to
 * this node's inbox channel. Its own connections (not the log's), so a burst of relayed commands
 * never queues behind a group commit, and the log never waits for coordination.
 */
export class ClusterNode {
  readonly keys: ClusterKeys;
  private readonly handlers = new Set<(message: InboxMessage & Record<string, unknown>) => void>();
  private closed = false;

  private constructor(
    readonly id: string,
    readonly redis: Redis,
    private readonly subscriber: Redis,
    prefix: string,
  ) {
    this.keys = clusterKeys(prefix);
  }

  /** Connects and starts listening on this node's inbox; fails with `unavailable` without Redis. */
  static async open(options: ClusterNodeOptions): Promise<ClusterNode> {
    const id = options.nodeId ?? randomBytes(12).toString('base64url');
    // Like the log: fail a command after a couple of reconnect attempts instead of hanging it.
    const common = { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5000 };
    const redis = connectRedis(options.url, { ...common, connectionName: `agentwire:${id}:cluster` });
    const subscriber = connectRedis(options.url, { ...common, connectionName: `agentwire:${id}:inbox` });
    const onError = options.onConnectionError ?? (() => {});
    redis.on('error', onError);
    subscriber.on('error', onError);
    const node = new ClusterNode(id, redis, subscriber, options.prefix);
    try {
      await Promise.all([redis.connect(), subscriber.connect()]);
      const inbox = node.keys.inbox(id);
      subscriber.on('message', (channel: string, text: string) => {
        if (channel === inbox) node.receive(text);
      });
      // ioredis subscribes again after a reconnect, so the inbox survives a Redis blip.
      await subscriber.subscribe(inbox);
    } catch (err) {
      redis.disconnect();
      subscriber.disconnect();
      throw new AgentwireError('unavailable', `Cannot join the cluster through Redis: ${messageOf(err)}`);
    }
    return node;
  }

  onMessage(handler: (message: InboxMessage & Record<string, unknown>) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * Puts `message` in another node's inbox. Resolves with whether that node is listening: Redis
   * counts the subscribers a PUBLISH reached, and it drops a killed process's connection at once,
   * so 0 means the node is gone (or cut off from Redis), not merely slow.
   */
  async send(nodeId: string, message: InboxMessage): Promise<boolean> {
    const receivers = await this.redis.publish(this.keys.inbox(nodeId), JSON.stringify(message));
    return receivers > 0;
  }

  /** Whether `nodeId` listens on its inbox right now (see `send`). */
  async isListening(nodeId: string): Promise<boolean> {
    const reply = (await this.redis.pubsub('NUMSUB', this.keys.inbox(nodeId))) as [string, number];
    return Number(reply[1]) > 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    this.subscriber.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private receive(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || typeof (message as { k?: unknown }).k !== 'string')
      return;
    for (const handler of this.handlers) {
      try {
        handler(message as InboxMessage & Record<string, unknown>);
      } catch (err) {
        // One bad message must not stop the inbox; the handlers log what they can act on.
        process.emitWarning(`cluster inbox handler failed: ${messageOf(err)}`);
      }
    }
  }
}
