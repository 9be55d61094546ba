import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServerOptions {
  /** `always` or `everysec` (the default); `no` leaves flushing to the OS. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** `host:port` of the primary this server replicates. */
  replicaOf?: string;
  /** Extra `--name value` arguments, passed as given. */
  args?: readonly string[];
}

/**
 * A `redis-server` of the test's own: its own port and data directory, AOF on, so a test may kill -9
 * it and start it again on the same data without touching the shared server on 6379.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Sends `signal` (SIGKILL by default) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and data directory, resolving once it answers PING. */
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  close(): Promise<void>;
}

/**
 * Undefined when `redis-server` (Debian's redis-server package) can be started here, or a reason to
 * skip; under `CI=true` its absence is a failure, as with `requireService`.
 */
export function requireRedisServer(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (probe.error === undefined && probe.status === 0) return undefined;
  const message = `redis-server cannot be started here (${probe.error?.message ?? `exit ${probe.status}`})`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must provide it.`);
  return `${message}; skipping (under CI=true this fails instead)`;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resolves once a Redis at `port` answers PING (or throws after `timeoutMs`). */
export async function waitForRedis(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      // A server still loading its AOF answers LOADING; it is not up until PING succeeds.
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`redis-server on ${port} did not answer within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      probe.disconnect();
    }
  }
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'agentwire-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    options.appendfsync ?? 'everysec',
    '--save',
    '',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
    ...(options.replicaOf === undefined ? [] : ['--replicaof', ...options.replicaOf.split(':')]),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve);
      proc.once('error', reject);
    });
    await waitForRedis(port);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill,
    start,
    async close() {
      await kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
