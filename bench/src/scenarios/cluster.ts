import { randomBytes } from 'node:crypto';
import {
  redisCommandCalls,
  startRedisServer,
  wipeRedisPrefix,
  type RedisServer,
} from '@agentwire/server/testing';
import { Redis } from 'ioredis';
import { ServerProc } from '../server-proc.js';
import type { RunResult } from '../servers/driver.js';
import { hrNow, latencies, sleep, type Context, type Row } from './context.js';

export interface ClusterOptions {
  /** Gateway processes at each size measured. */
  sizes: number[];
  /** Subscribers in all, spread over the serving nodes; each stream's subscribers share one node. */
  subscribers: number;
  streams: number;
  /** Events per second published on the first node, for `durationMs`. */
  rate: number;
  durationMs: number;
  /** Used only where `redis-server` cannot be started: then the counts include other clients. */
  redisUrl: string;
}

/** Commands whose calls are reported per event; `total` is every command but INFO. */
const BREAKDOWN = ['xrange', 'evalsha', 'publish', 'xadd'] as const;
const DRAIN_MS = 3000;

/**
 * Cluster: 1, 2, 3 and 4 gateway processes on one Redis (the engine's cluster mode). The first
 * node ingests (open loop, `rate` events/s over `streams` task streams); the subscribers are spread
 * over the other nodes (all on the one node at size 1), each stream's on one node, so every node
 * serves some streams and hears commits of all. Per size: deliveries per second, publish-to-deliver
 * latency, and Redis commands per event (INFO commandstats deltas, commands run by scripts
 * included), in all and per node.
 *
 * Redis is a redis-server of the scenario's own when one can be started, so nothing else's commands
 * are counted. `BENCH_ANNOUNCE_MAX_BYTES` sets the gateways' `announceMaxBytes` (0: positions only,
 * so the nodes serving a stream read its commits back).
 */
export async function runCluster(ctx: Context, scenario: string, options: ClusterOptions): Promise<Row[]> {
  const rows: Row[] = [];
  if (!ctx.servers.includes('agentwire')) return rows;
  const own = await ownRedis();
  const url = own?.url ?? options.redisUrl;
  const redis = new Redis(url);
  const announce = process.env.BENCH_ANNOUNCE_MAX_BYTES;
  try {
    for (const size of options.sizes) {
      ctx.log(`${scenario}: ${size} node${size > 1 ? 's' : ''}`);
      const prefix = `bench-cluster-${randomBytes(4).toString('hex')}:`;
      const start = { ...ctx.start, engine: 'redis' as const, redis: { url, prefix } };
      const nodes: ServerProc[] = [];
      try {
        for (let i = 0; i < size; i++) nodes.push(await ServerProc.start('agentwire', start));
        const serving = size === 1 ? nodes : nodes.slice(1);
        const streams = Array.from({ length: options.streams }, (_, i) => `task:c${i}`);
        const perStream = Math.max(1, Math.floor(options.subscribers / options.streams));
        for (const [n, node] of serving.entries()) {
          const mine = streams.filter((_, i) => i % serving.length === n);
          const subs = mine.flatMap((s) => Array.from({ length: perStream }, () => s));
          const opened = await ctx.group.open('agentwire', node.port, subs);
          if (opened.failed > 0) ctx.log(`  ${opened.failed} subscribers failed to connect`);
        }
        await ctx.group.reset();
        const before = await redisCommandCalls(redis);
        const t0 = hrNow();
        const run = await nodes[0]!.request<RunResult>({
          cmd: 'run',
          streams: { prefix: 'task:c', count: options.streams },
          rate: options.rate,
          durationMs: options.durationMs,
        });
        const expected = run.published * perStream;
        let snap = await ctx.group.snapshot();
        for (const end = Date.now() + DRAIN_MS; snap.delivered < expected && Date.now() < end;) {
          await sleep(20);
          snap = await ctx.group.snapshot();
        }
        const wallS = (hrNow() - t0) / 1e9;
        const after = await redisCommandCalls(redis);
        const delta = (cmd: string): number => (after.get(cmd) ?? 0) - (before.get(cmd) ?? 0);
        let total = 0;
        for (const cmd of after.keys()) if (cmd !== 'info') total += delta(cmd);
        const per = (n: number): string => (n / Math.max(1, run.published)).toFixed(2);
        rows.push({
          scenario,
          server: 'agentwire',
          mode: `${size} node${size > 1 ? 's' : ''}, ${options.streams} streams × ${perStream} subs${announce === undefined ? '' : `, announceMaxBytes ${announce}`}`,
          perSec: snap.delivered / wallS,
          ...latencies(snap.hist),
          wallS,
          primary: 'perSec',
          note: [
            `Redis cmds/event ${per(total)} (${per(total / size)} per node)`,
            BREAKDOWN.map((cmd) => `${cmd} ${per(delta(cmd))}`).join(', '),
            // Each commit that stores something publishes once; batching varies with load, this not.
            `xrange per commit ${(delta('xrange') / Math.max(1, delta('publish'))).toFixed(2)}`,
            snap.delivered < expected ? `${((100 * snap.delivered) / expected).toFixed(0)}% delivered` : '',
            own ? '' : 'shared Redis: counts include other clients',
          ]
            .filter(Boolean)
            .join('; '),
        });
      } finally {
        await ctx.group.close();
        await Promise.all(nodes.map((n) => n.stop()));
        if (!own) await wipeRedisPrefix(url, prefix);
      }
    }
  } finally {
    redis.disconnect();
    await own?.close();
  }
  return rows;
}

/** A redis-server of the scenario's own, so only the gateways' commands are counted; none without one. */
async function ownRedis(): Promise<RedisServer | undefined> {
  try {
    return await startRedisServer({ args: ['--appendonly', 'no'] });
  } catch {
    return undefined;
  }
}
