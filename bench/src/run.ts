import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskStream } from '@agentwire/protocol';
import { LoadGroup } from './load/group.js';
import { nchanInstalled, type ServerKind } from './server-proc.js';
import { scales, type Context, type Row, type Scale } from './scenarios/context.js';
import { runCluster } from './scenarios/cluster.js';
import { runDurability } from './scenarios/durability.js';
import { runFailover } from './scenarios/failover.js';
import { runFanout } from './scenarios/fanout.js';
import { runIdle } from './scenarios/idle.js';
import { runIngest } from './scenarios/ingest.js';
import { runNodeKill } from './scenarios/node-kill.js';
import { runStorm } from './scenarios/storm.js';
import { runTokens } from './scenarios/tokens.js';

export const SCENARIOS = [
  'broadcast-1k',
  'broadcast-10k',
  'tasks-10k',
  'idle-10k',
  'idle-50k',
  'ingest',
  'storm',
  'tokens',
  'node-kill',
  'cluster',
  'durability',
  'failover',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
export const ALL_SERVERS: ServerKind[] = ['agentwire', 'ws', 'socketio', 'nchan'];

export interface BenchOptions {
  scenarios: ScenarioName[];
  scale: Scale['name'];
  servers: ServerKind[];
  /** Pin servers to this core (the caller pins itself to another); undefined runs unpinned. */
  serverCore?: number;
  workers?: number;
  cpuProfDir?: string;
  /** Tasks in the `tokens` scenario (default: the scale's). */
  tokensTasks?: number;
  log?: (message: string) => void;
}

/** The open-file limit of this process, which the servers inherit. */
export function fdLimit(): number {
  const line = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line ? Number(line[1]) : 1024;
}

// The targets bench/results.md reports against ("The targets"), in deliveries (or events) per second.
const BROADCAST_1K_TARGET = 1_000_000;
const BROADCAST_10K_TARGET = 500_000;
const INGEST_TARGET = 100_000;
const TASKS_FIXED = 50_000;
const MISSED = 100;

export async function runBench(options: BenchOptions): Promise<Row[]> {
  const scale = scales[options.scale];
  const servers = options.servers.filter((s) => s !== 'nchan' || nchanInstalled());
  const log = options.log ?? ((m: string) => console.error(m));
  if (servers.length < options.servers.length)
    log('nchan peer skipped: nginx with libnginx-mod-nchan is not installed.');
  const dir = mkdtempSync(join(tmpdir(), 'agentwire-bench-'));
  const limit = fdLimit();
  const group = new LoadGroup(options.workers ?? 1);
  const ctx: Context = {
    scale,
    servers,
    group,
    start: {
      dir,
      fdLimit: limit,
      ...(options.serverCore !== undefined && { core: options.serverCore }),
      ...(options.cpuProfDir && { cpuProfDir: options.cpuProfDir }),
    },
    maxConnections: limit - 300,
    log,
  };
  // At smoke scale the rates shrink with the subscriber counts, so a step stays about a second.
  const shrink = scale.name === 'smoke' ? 1 / 1000 : 1;
  const rows: Row[] = [];
  try {
    for (const name of options.scenarios) {
      switch (name) {
        case 'broadcast-1k':
        case 'broadcast-10k': {
          const [small, large] = scale.broadcast;
          const subs = name === 'broadcast-1k' ? small : large;
          const target = name === 'broadcast-1k' ? BROADCAST_1K_TARGET : BROADCAST_10K_TARGET;
          rows.push(
            ...(await runFanout(ctx, {
              scenario: name,
              subscribers: Array.from({ length: subs }, () => 'task:bench'),
              publish: { prefix: 'task:bench', count: 0 },
              fanout: subs,
              fixedDeliveries: Math.max(subs * 10, (target / 2) * shrink),
            })),
          );
          break;
        }
        case 'tasks-10k':
          rows.push(
            ...(await runFanout(ctx, {
              scenario: name,
              subscribers: Array.from({ length: scale.tasks }, (_, i) => taskStream(`t${i}`)),
              publish: { prefix: 'task:t', count: scale.tasks },
              fanout: 1,
              fixedDeliveries: Math.max(scale.tasks, TASKS_FIXED * shrink),
            })),
          );
          break;
        case 'idle-10k':
        case 'idle-50k':
          rows.push(...(await runIdle(ctx, name, name === 'idle-10k' ? scale.idle[0] : scale.idle[1])));
          break;
        case 'ingest':
          rows.push(...(await runIngest(ctx, name, Math.max(2000, (INGEST_TARGET / 2) * shrink))));
          break;
        case 'storm':
          rows.push(...(await runStorm(ctx, name, scale.storm, MISSED)));
          break;
        case 'tokens':
          rows.push(
            ...(await runTokens(ctx, {
              tasks: options.tokensTasks ?? scale.tokens.tasks,
              durationMs: scale.tokens.durationMs,
              joinsPerS: scale.tokens.joinsPerS,
            })),
          );
          break;
        case 'node-kill':
          rows.push(
            ...(await runNodeKill(ctx, name, {
              ...scale.nodeKill,
              redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
            })),
          );
          break;
        case 'cluster':
          rows.push(
            ...(await runCluster(ctx, name, {
              ...scale.cluster,
              redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
            })),
          );
          break;
        case 'durability':
          rows.push(...(await runDurability(ctx, name, scale.durability)));
          break;
        case 'failover':
          rows.push(...(await runFailover(ctx, name, scale.failover)));
          break;
      }
    }
  } finally {
    await group.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
