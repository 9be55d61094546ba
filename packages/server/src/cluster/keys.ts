/**
 * Where the cluster keeps what its nodes share besides the log: who is alive and what each holds,
 * which node's producer owns each task, and one relay channel per node. Everything lives under the
 * log's prefix, so one `SCAN MATCH '<prefix>*'` still finds a whole deployment.
 *
 * The log's per-stream keys are `<letter>:<stream>`; these names have longer kinds (`node:`,
 * `owner:`), so no stream's key can be mistaken for one of them.
 */
export interface ClusterKeys {
  /** ZSET: node id scored by the time its report expires; lists the nodes alive. */
  nodes: string;
  /** STRING (JSON, with a TTL): the last report of one node. */
  report(nodeId: string): string;
  /** STRING `<nodeId> <producerId>` (with a TTL the owner refreshes): who runs a task's producer. */
  owner(stream: string): string;
  /** Pub/Sub channel of one node: commands for its producers, and replies to its own relays. */
  inbox(nodeId: string): string;
  /** STRING (with a TTL its holders refresh): the identity of the credential a producer id belongs to. */
  producer(producerId: string): string;
  /** HASH node → count (with a TTL its holders refresh): one user's connections on each node. */
  connections(subject: string): string;
  /** HASH (expires once full again): one producer's ingest token bucket, shared by every node. */
  ingestRate(producer: string): string;
}

export function clusterKeys(prefix: string): ClusterKeys {
  return {
    nodes: `${prefix}nodes`,
    report: (nodeId) => `${prefix}node:${nodeId}`,
    owner: (stream) => `${prefix}owner:${stream}`,
    inbox: (nodeId) => `${prefix}relay:${nodeId}`,
    producer: (producerId) => `${prefix}producer:${producerId}`,
    connections: (subject) => `${prefix}conns:${subject}`,
    ingestRate: (producer) => `${prefix}rate:${producer}`,
  };
}
