/** What `GET /v1/stats` reports; every field optional, since gateways of other versions differ. */
export interface GatewayStats {
  uptimeMs?: number;
  engine?: string;
  connections?: number;
  sseConnections?: number;
  pendingPolls?: number;
  socketioConnections?: number;
  swarmTerminalConnections?: number;
  subscriptions?: number;
  streams?: number;
  publishedEvents?: number;
  deliveredEvents?: number;
  memory?: number;
  /** Publish-to-deliver latency over the recent window, in ms. */
  latencyMs?: { p50?: number; p99?: number; max?: number; samples?: number };
  /** Bytes the log takes on disk (SQLite), if the engine can tell. */
  logBytes?: number;
  /** Subscribers per stream, where the gateway reports presence. */
  watchers?: Record<string, number>;
  [key: string]: unknown;
}

export interface StatsSample {
  at: number;
  connections: number;
  subscriptions: number;
  streams: number;
  eventsInPerSec: number | undefined;
  eventsOutPerSec: number | undefined;
  latencyP50: number | undefined;
  latencyP99: number | undefined;
  logBytes: number | undefined;
  memory: number | undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Every client connection, whatever the transport. */
export function totalConnections(s: GatewayStats): number {
  return (
    (num(s.connections) ?? 0) +
    (num(s.sseConnections) ?? 0) +
    (num(s.pendingPolls) ?? 0) +
    (num(s.socketioConnections) ?? 0) +
    (num(s.swarmTerminalConnections) ?? 0)
  );
}

/**
 * One chart point from two successive readings: rates are the counters' growth over the time
 * between them (a restarted gateway's counters start over, so a drop reads as "unknown").
 */
export function toSample(
  prev: { at: number; stats: GatewayStats } | undefined,
  at: number,
  stats: GatewayStats,
): StatsSample {
  const rate = (key: 'publishedEvents' | 'deliveredEvents'): number | undefined => {
    const now = num(stats[key]);
    const before = prev ? num(prev.stats[key]) : undefined;
    if (!prev || now === undefined || before === undefined || now < before || at <= prev.at) return undefined;
    return ((now - before) * 1_000) / (at - prev.at);
  };
  return {
    at,
    connections: totalConnections(stats),
    subscriptions: num(stats.subscriptions) ?? 0,
    streams: num(stats.streams) ?? 0,
    eventsInPerSec: rate('publishedEvents'),
    eventsOutPerSec: rate('deliveredEvents'),
    latencyP50: num(stats.latencyMs?.p50),
    latencyP99: num(stats.latencyMs?.p99),
    logBytes: num(stats.logBytes),
    memory: num(stats.memory),
  };
}
