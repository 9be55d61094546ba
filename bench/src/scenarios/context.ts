import type { Histogram } from '../hist.js';
import type { LoadGroup } from '../load/group.js';
import { ServerProc, type ServerKind, type StartOptions } from '../server-proc.js';

/** How big and how long: `full` for results.md, `quick` for a look, `smoke` for the test suite. */
export interface Scale {
  name: 'full' | 'quick' | 'smoke';
  /** Subscribers for broadcast-1k / broadcast-10k, tasks-10k, idle-10k / idle-50k and storm. */
  broadcast: [number, number];
  tasks: number;
  idle: [number, number];
  storm: number;
  stormStreams: number;
  /** One open-loop step of a saturation search, and the fixed-rate measurement. */
  stepMs: number;
  fixedMs: number;
  /** Most steps a saturation search takes; 0 skips the search. */
  searchSteps: number;
  /** Pause before a memory reading, for connections and buffers to settle. */
  settleMs: number;
  /** The `tokens` scenario: tasks streaming at once (`--tasks=` overrides), how long, late joins per second. */
  tokens: { tasks: number; durationMs: number; joinsPerS: number };
  /** node-kill: subscribers over two nodes, the publisher's rate and length, when the node dies. */
  nodeKill: { subscribers: number; rate: number; durationMs: number; killAtMs: number };
  /** cluster: gateway counts measured, subscribers over the serving nodes, streams, ingest rate and length. */
  cluster: { sizes: number[]; subscribers: number; streams: number; rate: number; durationMs: number };
  /** durability: appends in flight, streams, throughput window, kills of redis-server per setting. */
  durability: { concurrency: number; streams: number; measureMs: number; kills: number; killAfterMs: number };
  /** failover: producers publishing at once, a cost window and how many per mode, publishing after recovery. */
  failover: { producers: number; stepMs: number; rounds: number; afterMs: number };
}

export const scales: Record<Scale['name'], Scale> = {
  full: {
    name: 'full',
    broadcast: [1000, 10_000],
    tasks: 10_000,
    idle: [10_000, 50_000],
    storm: 10_000,
    stormStreams: 100,
    stepMs: 2000,
    fixedMs: 5000,
    searchSteps: 8,
    settleMs: 500,
    tokens: { tasks: 200, durationMs: 10_000, joinsPerS: 20 },
    nodeKill: { subscribers: 100, rate: 100, durationMs: 10_000, killAtMs: 2000 },
    cluster: { sizes: [1, 2, 3, 4], subscribers: 500, streams: 100, rate: 1000, durationMs: 10_000 },
    durability: { concurrency: 64, streams: 16, measureMs: 5000, kills: 5, killAfterMs: 1000 },
    failover: { producers: 32, stepMs: 2000, rounds: 4, afterMs: 2000 },
  },
  quick: {
    name: 'quick',
    broadcast: [1000, 10_000],
    tasks: 10_000,
    idle: [10_000, 50_000],
    storm: 10_000,
    stormStreams: 100,
    stepMs: 1000,
    fixedMs: 2000,
    searchSteps: 5,
    settleMs: 500,
    tokens: { tasks: 200, durationMs: 6_000, joinsPerS: 20 },
    nodeKill: { subscribers: 100, rate: 100, durationMs: 8000, killAtMs: 2000 },
    cluster: { sizes: [1, 2, 3, 4], subscribers: 500, streams: 100, rate: 1000, durationMs: 5000 },
    durability: { concurrency: 64, streams: 16, measureMs: 2000, kills: 3, killAfterMs: 500 },
    failover: { producers: 32, stepMs: 1000, rounds: 3, afterMs: 1000 },
  },
  smoke: {
    name: 'smoke',
    broadcast: [20, 40],
    tasks: 40,
    idle: [40, 80],
    storm: 40,
    stormStreams: 4,
    stepMs: 150,
    fixedMs: 150,
    searchSteps: 1,
    settleMs: 20,
    tokens: { tasks: 4, durationMs: 1_500, joinsPerS: 4 },
    nodeKill: { subscribers: 10, rate: 50, durationMs: 3000, killAtMs: 500 },
    cluster: { sizes: [1, 2], subscribers: 8, streams: 4, rate: 100, durationMs: 500 },
    durability: { concurrency: 4, streams: 2, measureMs: 150, kills: 1, killAfterMs: 100 },
    failover: { producers: 4, stepMs: 300, rounds: 1, afterMs: 200 },
  },
};

export interface Context {
  scale: Scale;
  servers: ServerKind[];
  group: LoadGroup;
  start: Omit<StartOptions, 'engine' | 'recovery'>;
  /** Most connections one process may hold (the open-file limit less some headroom). */
  maxConnections: number;
  log(message: string): void;
}

/** One line of the results table. Fields a scenario does not measure stay undefined. */
export interface Row {
  scenario: string;
  server: ServerKind;
  mode: string;
  /** Deliveries (or acknowledged events) per second. */
  perSec?: number;
  /** Latency percentiles in milliseconds. */
  p50?: number;
  p99?: number;
  p999?: number;
  /** Server CPU seconds over `wallS` seconds of the measurement. */
  cpuS?: number;
  wallS?: number;
  rssMB?: number;
  bytesPerConn?: number;
  /** Share of the load core the load generator used: near 100% means it, not the server, was the limit. */
  loadPct?: number;
  /** Seconds to a milestone (storm: everyone caught up). */
  timeS?: number;
  /** Which field is compared across servers, and whether lower is better. */
  primary?: 'perSec' | 'p99' | 'bytesPerConn' | 'timeS';
  note?: string;
}

export function latencies(hist: Histogram): Pick<Row, 'p50' | 'p99' | 'p999'> {
  return {
    p50: hist.quantile(0.5) / 1000,
    p99: hist.quantile(0.99) / 1000,
    p999: hist.quantile(0.999) / 1000,
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const hrNow = (): number => Number(process.hrtime.bigint());

/** Starts a server, runs `body`, and always stops the server and closes the clients. */
export async function withServer<T>(
  ctx: Context,
  kind: ServerKind,
  extra: Pick<StartOptions, 'engine' | 'recovery'>,
  body: (server: ServerProc) => Promise<T>,
): Promise<T> {
  const server = await ServerProc.start(kind, { ...ctx.start, ...extra });
  try {
    return await body(server);
  } finally {
    await ctx.group.close();
    await server.stop();
  }
}

/** Measures the server's memory growth while `open` runs, per connection opened. */
export async function memoryPerConnection(
  ctx: Context,
  server: ServerProc,
  open: () => Promise<number>,
): Promise<{ opened: number; bytesPerConn: number; rss: number }> {
  await server.settleMemory(ctx.scale.settleMs);
  const before = server.rssBytes();
  const opened = await open();
  await sleep(ctx.scale.settleMs);
  await server.settleMemory(ctx.scale.settleMs);
  const rss = server.rssBytes();
  return { opened, bytesPerConn: opened > 0 ? (rss - before) / opened : NaN, rss };
}
