import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  const own = await OwnRedis.start();
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
        const before = await commandCalls(redis);
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
        const after = await commandCalls(redis);
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
        if (!own) await wipe(redis, prefix);
      }
    }
  } finally {
    redis.disconnect();
    await own?.close();
  }
  return rows;
}

/** Calls per command so far, from INFO commandstats. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) calls.set(m[1]!, Number(m[2]));
  }
  return calls;
}

async function wipe(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** A redis-server of the scenario's own (no persistence: only its command counts matter here). */
class OwnRedis {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<OwnRedis | undefined> {
    if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as { port: number };
        s.close(() => resolve(p));
      });
      s.on('error', reject);
    });
    const dir = mkdtempSync(join(tmpdir(), 'agentwire-bench-redis-'));
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        return new OwnRedis(url, child, dir);
      } catch {
        if (i > 100) {
          child.kill('SIGKILL');
          return undefined;
        }
        await sleep(50);
      } finally {
        probe.disconnect();
      }
    }
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
