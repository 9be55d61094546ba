import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, waitForRedis, type RedisServer } from './redis-server.js';
import { waitUntil } from './wait.js';

export interface SentinelSetOptions {
  /** The master name the sentinels monitor. Default `agentwire`. */
  name?: string;
  /** Replicas of the primary; with two, one is left to confirm WAIT after a failover. Default 1. */
  replicas?: number;
  /** Sentinels; a failover needs a majority of them. Default 3. */
  sentinels?: number;
  /** How long the primary must be silent before it is considered down. Default 1000 ms. */
  downAfterMs?: number;
  /** Sentinel's failover-timeout (also how soon a failed failover is retried). Default 3000 ms. */
  failoverTimeoutMs?: number;
}

/**
 * A primary, its replicas and several sentinels of the test's own, each on a free port with its own
 * data directory, for testing a failover: kill the primary with `primary.kill()` and the sentinels
 * promote the replica.
 */
export interface SentinelSet {
  /** `redis+sentinel://127.0.0.1:p1,…/<name>`, what a gateway is given. */
  readonly url: string;
  readonly name: string;
  readonly primary: RedisServer;
  /** The first replica, the one a failover of a set with a single replica promotes. */
  readonly replica: RedisServer;
  readonly replicas: readonly RedisServer[];
  readonly sentinelPorts: readonly number[];
  /** The port of the primary the sentinels name now. */
  masterPort(): Promise<number>;
  /** Resolves once the sentinels name a primary other than the one on `oldPort`. */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Undefined when Redis Sentinel can be started here (Debian's redis-sentinel, or redis-server
 * with `--sentinel`), or a reason to skip; under `CI=true` its absence is a failure.
 */
export function requireRedisSentinel(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (probe.error === undefined && probe.status === 0) return undefined;
  const message = `redis-server (for Sentinel) cannot be started here (${probe.error?.message ?? `exit ${probe.status}`})`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must provide it.`);
  return `${message}; skipping (under CI=true this fails instead)`;
}

export async function startSentinelSet(options: SentinelSetOptions = {}): Promise<SentinelSet> {
  const name = options.name ?? 'agentwire';
  const primary = await startRedisServer();
  const replicas: RedisServer[] = [];
  for (let i = 0; i < (options.replicas ?? 1); i++)
    replicas.push(await startRedisServer({ replicaOf: `127.0.0.1:${primary.port}` }));
  const replica = replicas[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'agentwire-sentinel-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(children.map((c) => stop(c)));
    await Promise.all([primary, ...replicas].map((r) => r.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < (options.sentinels ?? 3); i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its config file as it learns the topology, so each has a file of its own.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `logfile ${join(dir, `sentinel-${port}.log`)}`,
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 3000}`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      await waitForRedis(port);
      ports.push(port);
    }
    // A failover needs every sentinel to know the replica and a quorum of the others (they find
    // each other through the primary's hello channel, every 2 s); before that, killing the primary
    // would leave nobody to promote.
    await Promise.all(
      ports.map((port) =>
        withRedis(port, (s) =>
          waitUntil(
            async () => {
              const known = (await s.call('SENTINEL', 'REPLICAS', name)) as unknown[];
              const peers = (await s.call('SENTINEL', 'SENTINELS', name)) as unknown[];
              return known.length >= replicas.length && peers.length >= ports.length - 1;
            },
            `sentinel ${port} to know the replicas and its peers`,
            20_000,
            100,
          ),
        ),
      ),
    );
    for (const r of replicas)
      await waitUntil(
        async () => withRedis(r.port, async (c) => /master_link_status:up/.test(await c.info('replication'))),
        `the replica on ${r.port} to be in sync`,
        20_000,
        50,
      );
  } catch (err) {
    await close();
    throw err;
  }
  const masterPort = (): Promise<number> =>
    withRedis(ports[0]!, async (s) => {
      const addr = (await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
      return Number(addr[1]);
    });
  return {
    url: `redis+sentinel://${ports.map((p) => `127.0.0.1:${p}`).join(',')}/${name}`,
    name,
    primary,
    replica,
    replicas,
    sentinelPorts: ports,
    masterPort,
    async waitForFailover(oldPort, timeoutMs = 30_000) {
      let port = oldPort;
      await waitUntil(
        async () => (port = await masterPort()) !== oldPort,
        `the sentinels to promote a primary other than ${oldPort}`,
        timeoutMs,
        50,
      );
      return port;
    },
    close,
  };
}

async function withRedis<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
