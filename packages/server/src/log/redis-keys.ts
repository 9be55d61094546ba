/**
 * Where the Redis engine keeps things. Everything lives under one prefix, so several deployments
 * (or test runs) can share a Redis and one deployment can be wiped with a single SCAN pattern.
 *
 * The kind of key comes before the stream name (`m:task:1`, not `task:1:m`): stream names may
 * contain `:`, and with the kind first no stream's key can be mistaken for another stream's.
 */
export interface RedisKeys {
  /** STRING: the deployment epoch, created once with SET NX and given to every new stream. */
  epoch: string;
  /** ZSET: stream name scored by the time of its last append, for `listStreams`. */
  index: string;
  /** Pub/Sub channel on which every append is announced to the other nodes. */
  channel: string;
  /** HASH: epoch, head, first, createdAt, updatedAt. Absent until the first event. */
  meta(stream: string): string;
  /** STREAM: the events, entry id `<seq>-0`, fields i (id), t (type), m (time), d (JSON data). */
  events(stream: string): string;
  /** HASH: event id -> seq for every retained event; the dedupe index of the retained history. */
  ids(stream: string): string;
  /** HASH: seq and state of the stream's snapshot checkpoint. */
  checkpoint(stream: string): string;
  /**
   * Key prefix of the dedupe tombstones of one stream (the event id is appended). The stream's
   * byte length is part of it so that (stream, id) pairs can never collide whatever they contain.
   */
  tombstones(stream: string): string;
  /** STRING with a short expiry: a node's health probe writes it while the log is failing. */
  probe(node: string): string;
}

export const DEFAULT_REDIS_PREFIX = 'agentwire:';

export function redisKeys(prefix: string): RedisKeys {
  return {
    epoch: `${prefix}epoch`,
    index: `${prefix}streams`,
    channel: `${prefix}appends`,
    meta: (stream) => `${prefix}m:${stream}`,
    events: (stream) => `${prefix}e:${stream}`,
    ids: (stream) => `${prefix}i:${stream}`,
    checkpoint: (stream) => `${prefix}c:${stream}`,
    tombstones: (stream) => `${prefix}t:${Buffer.byteLength(stream)}:${stream}:`,
    probe: (node) => `${prefix}probe:${node}`,
  };
}
