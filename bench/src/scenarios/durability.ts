import { taskStream } from '@agentwire/protocol';
import { Redis } from 'ioredis';
import { openEngine, type LogEngine } from '@agentwire/server';
import { requireRedisServer, startRedisServer, type RedisServer } from '@agentwire/server/testing';
import { Histogram } from '../hist.js';
import { hrNow, latencies, sleep, type Context, type Row } from './context.js';

export interface DurabilityOptions {
  /** Appends in flight at once (each a one-event append, as a chatty producer makes them). */
  concurrency: number;
  /** Streams the appends spread over. */
  streams: number;
  /** Length of the throughput measurement, in ms. */
  measureMs: number;
  /** Kills per setting, and how long publishing runs before each. */
  kills: number;
  killAfterMs: number;
}

const SETTINGS = ['always', 'everysec', 'no'] as const;

/** One closed-loop publisher pool: `concurrency` appends in flight until stopped. */
class Publishing {
  readonly acked = new Set<string>();
  readonly hist = new Histogram();
  failed = 0;
  private next = 0;
  private stopped = false;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly engine: LogEngine,
    private readonly tag: string,
    options: DurabilityOptions,
  ) {
    this.loops = Array.from({ length: options.concurrency }, (_, i) =>
      this.loop(taskStream(`durability-${i % options.streams}`)),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async loop(stream: string): Promise<void> {
    while (!this.stopped) {
      const id = `${this.tag}-${this.next++}`;
      const began = hrNow();
      try {
        await this.engine.append(stream, [
          { id, type: 'log:entry', time: Date.now(), data: { level: 'info', message: id } },
        ]);
        this.hist.record((hrNow() - began) / 1000);
        this.acked.add(id);
      } catch {
        // Redis is gone: this loop's part is over until the next round.
        this.failed++;
        return;
      }
    }
  }
}

/** Every event id stored in the scenario's streams, read back page by page. */
async function storedIds(engine: LogEngine, streams: number): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let s = 0; s < streams; s++) {
    const stream = taskStream(`durability-${s}`);
    for (let after = 0; ;) {
      const page = await engine.read(stream, after, 1000);
      for (const e of page.events) ids.add(e.id);
      if (page.events.length === 0) break;
      after = page.events[page.events.length - 1]!.seq;
    }
  }
  return ids;
}

/**
 * Redis's `aof_delayed_fsync`: how often, under `everysec`, a background fsync was still running
 * and the AOF write was postponed, so writes already acknowledged were held only in Redis's memory
 * (a kill then loses them). Counted since the server started.
 */
async function delayedFsyncs(redis: RedisServer): Promise<number> {
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    const info = await client.info('persistence');
    return Number(/aof_delayed_fsync:(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

/** Opens the engine once Redis answers reads again (it may still be loading its AOF). */
async function reopen(redis: RedisServer): Promise<LogEngine> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await openEngine({ kind: 'redis', url: redis.url, prefix: 'bench-durability:' });
    } catch (err) {
      if (attempt >= 50) throw err;
      await sleep(100);
    }
  }
}

/**
 * Durability: for each `appendfsync` setting, a private redis-server (AOF on, data on this
 * machine's disk) takes one-event appends from `concurrency` closed-loop publishers in this
 * process; first their throughput and latency, then `kills` times a SIGKILL of redis-server
 * mid-publish, a restart on the same data, and a count of acknowledged events that are gone.
 * A process kill leaves the kernel's page cache intact, so this measures what a Redis crash
 * loses; what a machine crash (power, kernel) loses is not measurable here.
 */
export async function runDurability(
  ctx: Context,
  scenario: string,
  options: DurabilityOptions,
): Promise<Row[]> {
  const rows: Row[] = [];
  if (!ctx.servers.includes('agentwire')) return rows;
  const missing = requireRedisServer();
  if (missing !== undefined) {
    ctx.log(`${scenario}: ${missing}`);
    return rows;
  }
  for (const appendfsync of SETTINGS) {
    ctx.log(`${scenario}: appendfsync ${appendfsync}`);
    const redis = await startRedisServer({ appendfsync });
    let engine = await reopen(redis);
    try {
      const measured = new Publishing(engine, 'measure', options);
      const began = hrNow();
      await sleep(options.measureMs);
      await measured.stop();
      const wallS = (hrNow() - began) / 1e9;

      let acked = 0;
      let lost = 0;
      let unacked = 0;
      // Each server start counts from zero: read just before each kill, the throughput run included.
      let delayed = 0;
      for (let k = 0; k < options.kills; k++) {
        const run = new Publishing(engine, `kill${k}`, options);
        await sleep(options.killAfterMs);
        delayed += await delayedFsyncs(redis);
        await redis.kill('SIGKILL');
        await run.stop();
        await engine.close().catch(() => undefined);
        await redis.start();
        engine = await reopen(redis);
        const stored = await storedIds(engine, options.streams);
        acked += run.acked.size;
        for (const id of run.acked) if (!stored.has(id)) lost++;
        for (const id of stored) if (id.startsWith(`kill${k}-`) && !run.acked.has(id)) unacked++;
      }
      rows.push({
        scenario,
        server: 'agentwire',
        mode: `appendfsync ${appendfsync}`,
        perSec: measured.acked.size / wallS,
        ...latencies(measured.hist),
        wallS,
        primary: 'perSec',
        note:
          `${options.concurrency} one-event appends in flight; kill -9 ×${options.kills}: ` +
          `lost ${lost} of ${acked} acknowledged, ${unacked} stored unacknowledged; ` +
          `AOF writes postponed behind a slow fsync: ${delayed}`,
      });
    } finally {
      await engine.close().catch(() => undefined);
      await redis.close();
    }
  }
  return rows;
}
