import type { Logger } from '../logger.js';
import type { WorkerInfo } from '../producers/registry.js';
import type { ClusterNode } from './node.js';

/**
 * A worker connected to some node, as that node last reported it. Its `grant` may be missing from
 * a node that does not report one: such a worker gets no starts from the other nodes.
 */
export type WorkerReport = Omit<WorkerInfo, 'grant'> & Partial<Pick<WorkerInfo, 'grant'>>;

/** What one node reports about itself; every field is a count at the time of the report. */
export interface LocalReport {
  /** Client connections per transport (websocket, socketio, sse, …). */
  connections: Record<string, number>;
  subscriptions: number;
  /** Producers with a command channel open to this node. */
  producers: number;
  /** Subscribers per stream (presence). */
  watchers: Record<string, number>;
  /** Connections per authenticated user (the token's subject), for the per-user limit. */
  users?: Record<string, number>;
  /** Connected workers, so another node can start a task on one of them. */
  workers: WorkerReport[];
}

export interface NodeReport extends LocalReport {
  node: string;
  /** When the report was made (ms since the epoch, the node's clock). */
  at: number;
}

/** Cluster-wide sums, as `/v1/stats` shows them under `cluster`. */
export interface ClusterTotals {
  nodes: number;
  connections: number;
  connectionsByTransport: Record<string, number>;
  subscriptions: number;
  producers: number;
  /** Distinct streams with at least one subscriber somewhere. */
  watchedStreams: number;
  /** Users with at least one connection somewhere. */
  users: number;
  /** How old the oldest report in these sums is, in ms. */
  staleness: number;
}

/**
 * Cluster-wide presence and connection counts. Every node writes a report of its own counts to
 * Redis every `intervalMs`, with a TTL of three intervals, and reads everyone else's back; a node
 * that dies unannounced drops out when its report expires, one that stops cleanly at once.
 *
 * Reads are synchronous, from the last round: this node's own part is always current, the other
 * nodes' is at most about one interval old. That is what a per-user connection limit or a stats
 * page needs: a user racing connections to several nodes within one interval can exceed a limit
 * by what they opened meanwhile, never more.
 */
export class ClusterPresence {
  private others = new Map<string, NodeReport>();
  private readonly timer: NodeJS.Timeout;
  private round: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly node: ClusterNode,
    private readonly local: () => LocalReport,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  /** Writes this node's report and reads the others' (one round; rounds never overlap). */
  refresh(): Promise<void> {
    this.round ??= this.exchange().finally(() => (this.round = undefined));
    return this.round;
  }

  /** Every live node's report, this node's freshly made. */
  reports(): NodeReport[] {
    return [this.own(), ...this.others.values()];
  }

  /** The other nodes' reports from the last round. */
  otherReports(): NodeReport[] {
    return [...this.others.values()];
  }

  totals(now = Date.now()): ClusterTotals {
    const all = this.reports();
    const byTransport: Record<string, number> = {};
    const streams = new Set<string>();
    const users = new Set<string>();
    let connections = 0;
    let subscriptions = 0;
    let producers = 0;
    let oldest = now;
    for (const r of all) {
      for (const [kind, n] of Object.entries(r.connections)) {
        byTransport[kind] = (byTransport[kind] ?? 0) + n;
        connections += n;
      }
      subscriptions += r.subscriptions;
      producers += r.producers;
      for (const [stream, n] of Object.entries(r.watchers)) if (n > 0) streams.add(stream);
      for (const [user, n] of Object.entries(r.users ?? {})) if (n > 0) users.add(user);
      oldest = Math.min(oldest, r.at);
    }
    return {
      nodes: all.length,
      connections,
      connectionsByTransport: byTransport,
      subscriptions,
      producers,
      watchedStreams: streams.size,
      users: users.size,
      staleness: Math.max(0, now - oldest),
    };
  }

  /** Subscribers of `stream` on every node. */
  watchersOf(stream: string): number {
    return this.reports().reduce((n, r) => n + (r.watchers[stream] ?? 0), 0);
  }

  /** Subscribers per stream, summed over every node. */
  watchers(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.reports())
      for (const [stream, n] of Object.entries(r.watchers)) out[stream] = (out[stream] ?? 0) + n;
    return out;
  }

  /** Connections `subject` holds on the other nodes (add this node's own count to get the total). */
  connectionsElsewhere(subject: string): number {
    let n = 0;
    for (const r of this.others.values()) n += r.users?.[subject] ?? 0;
    return n;
  }

  /** Connections `subject` holds on every node. */
  connectionsOf(subject: string): number {
    return (this.local().users?.[subject] ?? 0) + this.connectionsElsewhere(subject);
  }

  /** Workers for `kind` on the other nodes, with the node each is connected to. */
  workersElsewhere(kind: string): (WorkerReport & { node: string })[] {
    const out: (WorkerReport & { node: string })[] = [];
    for (const r of this.others.values())
      for (const w of r.workers) if (w.kinds.includes(kind)) out.push({ ...w, node: r.node });
    return out;
  }

  /** Removes this node's report at once, so the others stop counting it before its TTL runs out. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.round?.catch(() => undefined);
    const { keys, redis, id } = this.node;
    await redis
      .multi()
      .del(keys.report(id))
      .zrem(keys.nodes, id)
      .exec()
      .catch(() => undefined);
  }

  private own(): NodeReport {
    return { node: this.node.id, at: Date.now(), ...this.local() };
  }

  private async exchange(): Promise<void> {
    if (this.closed) return;
    const { keys, redis, id } = this.node;
    const now = Date.now();
    const ttl = this.intervalMs * 3;
    try {
      const replies = await redis
        .multi()
        .set(keys.report(id), JSON.stringify(this.own()), 'PX', ttl)
        .zadd(keys.nodes, String(now + ttl), id)
        .zremrangebyscore(keys.nodes, '-inf', String(now))
        .zrange(keys.nodes, '0', '-1')
        .exec();
      const ids = ((replies?.[3]?.[1] ?? []) as string[]).filter((n) => n !== id);
      const texts = ids.length > 0 ? await redis.mget(...ids.map((n) => keys.report(n))) : [];
      const others = new Map<string, NodeReport>();
      texts.forEach((text, i) => {
        const report = text === null ? undefined : parseReport(text);
        if (report && report.node === ids[i]) others.set(report.node, report);
      });
      if (!this.closed) this.others = others;
    } catch (err) {
      // Keep the last known reports: one failed round must not make the cluster look empty.
      this.logger.warn({ err: (err as Error).message }, 'could not exchange presence with the cluster');
    }
  }
}

function parseReport(text: string): NodeReport | undefined {
  try {
    const value = JSON.parse(text) as NodeReport;
    if (typeof value !== 'object' || value === null || typeof value.node !== 'string') return undefined;
    if (typeof value.connections !== 'object' || !Array.isArray(value.workers)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}
