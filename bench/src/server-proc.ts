import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerCommand } from './servers/child.js';

export type ServerKind = 'agentwire' | 'ws' | 'socketio' | 'nchan';

export interface StartOptions {
  /** Scratch folder for databases, nginx config and profiles. */
  dir: string;
  engine?: 'memory' | 'sqlite' | 'redis';
  /** With engine `redis` (agentwire) or for Socket.IO's Redis Streams adapter: where, and under which key prefix. */
  redis?: { url: string; prefix: string };
  /** Socket.IO only: connection state recovery. */
  recovery?: boolean;
  /** Core to pin the server to, or undefined not to pin. */
  core?: number;
  /** Write a V8 CPU profile of the server process into this folder. */
  cpuProfDir?: string;
  fdLimit: number;
}

const NGINX = '/usr/sbin/nginx';
const NCHAN_MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so';
const CLK_TCK = 100;

export function nchanInstalled(): boolean {
  return existsSync(NGINX) && existsSync(NCHAN_MODULE);
}

/** The harness's install step for its one non-npm peer; Debian packages, as root. */
export function installNchan(): boolean {
  if (nchanInstalled()) return true;
  console.error('nchan peer: installing nginx and libnginx-mod-nchan with apt-get …');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: 'ignore', env });
  const install = spawnSync('apt-get', ['install', '-y', 'nginx', 'libnginx-mod-nchan'], {
    stdio: 'ignore',
    env,
  });
  if (update.status !== 0 || install.status !== 0)
    console.error('nchan peer: install failed; it will be skipped.');
  return nchanInstalled();
}

const here = fileURLToPath(new URL('.', import.meta.url));

function pinned(core: number | undefined, command: string, args: string[]): [string, string[]] {
  return core === undefined ? [command, args] : ['taskset', ['-c', String(core), command, ...args]];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** CPU seconds (user + system) a process has used so far, from procfs. */
function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function rssOf(pid: number): number {
  try {
    const kb = /VmRSS:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) * 1024;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * A server under test in its own process (pinned to the server core), driven over IPC. For nchan
 * that is nginx plus a small Node process that publishes into it; both are measured.
 */
export class ServerProc {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    readonly kind: ServerKind,
    readonly port: number,
    private readonly controller: ChildProcess,
    private readonly nginx: ChildProcess | undefined,
  ) {
    controller.on('message', (msg: { id?: number; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.error !== undefined) w?.reject(new Error(msg.error));
      else w?.resolve(msg.result);
    });
    controller.on('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error(`${kind} server exited`));
      this.waiting.clear();
    });
  }

  static async start(kind: ServerKind, options: StartOptions): Promise<ServerProc> {
    mkdirSync(options.dir, { recursive: true });
    const nodeArgs = ['--expose-gc'];
    if (options.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
    // Extra flags for the server processes only (say `--trace-gc`), for looking into a figure.
    nodeArgs.push(...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean));
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
    let nginx: ChildProcess | undefined;
    let script: string;
    switch (kind) {
      case 'agentwire':
        script = 'agentwire.js';
        env.BENCH_ENGINE = options.engine ?? 'memory';
        env.BENCH_DB = join(options.dir, `agentwire-${Date.now()}.db`);
        if (options.redis) Object.assign(env, redisEnv(options.redis));
        break;
      case 'ws':
        script = 'ws-peer.js';
        break;
      case 'socketio':
        script = 'socketio.js';
        if (options.recovery) env.BENCH_RECOVERY = '1';
        if (options.redis) Object.assign(env, redisEnv(options.redis));
        break;
      case 'nchan': {
        script = 'nchan-driver.js';
        const port = await freePort();
        env.BENCH_NCHAN_PORT = String(port);
        nginx = startNginx(options, port);
        await waitForPort(port, nginx);
        break;
      }
    }
    const [cmd, args] = pinned(options.core, process.execPath, [...nodeArgs, join(here, 'servers', script)]);
    const controller = spawn(cmd, args, {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const port = await new Promise<number>((resolve, reject) => {
      controller.once('message', (msg: { port: number }) => resolve(msg.port));
      controller.once('exit', (code) =>
        reject(new Error(`${kind} server exited with ${code} before it was ready`)),
      );
    });
    return new ServerProc(kind, port, controller, nginx);
  }

  request<T = unknown>(command: ServerCommand): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.controller.send({ ...command, id });
    });
  }

  /** The processes that serve subscribers: their memory is the server's memory. */
  private servingPids(): number[] {
    if (this.nginx?.pid) return [this.nginx.pid, ...childrenOf(this.nginx.pid)];
    return this.controller.pid ? [this.controller.pid] : [];
  }

  /** CPU seconds used so far by everything on the server core, publisher included. */
  cpuSeconds(): number {
    const pids = [...this.servingPids(), ...(this.nginx && this.controller.pid ? [this.controller.pid] : [])];
    return pids.reduce((sum, pid) => sum + cpuOf(pid), 0);
  }

  rssBytes(): number {
    return this.servingPids().reduce((sum, pid) => sum + rssOf(pid), 0);
  }

  /** Collects garbage where the server is a Node process, so memory readings are comparable. */
  async settleMemory(ms: number): Promise<void> {
    if (!this.nginx) await this.request({ cmd: 'gc' });
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  async connections(): Promise<number> {
    return (await this.request<{ connections: number }>({ cmd: 'stats' })).connections;
  }

  /** Ends the server with SIGKILL: no shutdown, as a crashed machine would. */
  async kill(): Promise<void> {
    if (this.controller.exitCode !== null || this.controller.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.controller.once('exit', () => resolve()));
    this.controller.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.controller.exitCode !== null || this.controller.signalCode !== null) resolve();
      else this.controller.once('exit', () => resolve());
    });
    // A killed server has no IPC channel left to be told anything on.
    if (this.controller.connected) await this.request({ cmd: 'exit' }).catch(() => {});
    const timer = setTimeout(() => this.controller.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    if (this.nginx && this.nginx.exitCode === null) {
      const gone = new Promise<void>((resolve) => this.nginx!.once('exit', () => resolve()));
      this.nginx.kill('SIGTERM');
      await gone;
    }
  }
}

function redisEnv(redis: { url: string; prefix: string }): NodeJS.ProcessEnv {
  return { BENCH_REDIS_URL: redis.url, BENCH_REDIS_PREFIX: redis.prefix };
}

function startNginx(options: StartOptions, port: number): ChildProcess {
  const dir = join(options.dir, `nginx-${port}`);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = `
load_module ${NCHAN_MODULE};
daemon off;
master_process on;
worker_processes 1;
user root;
worker_rlimit_nofile ${options.fdLimit};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections ${options.fdLimit - 100}; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  nchan_shared_memory_size 512m;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location ~ ^/sub/(.+)$ { nchan_subscriber websocket; nchan_channel_id $1; }
    location ~ ^/pub/(.+)$ { nchan_publisher; nchan_channel_id $1; nchan_message_buffer_length 200; nchan_message_timeout 10m; }
    location = /status { nchan_stub_status; }
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const [cmd, args] = pinned(options.core, NGINX, ['-c', confPath, '-p', dir, '-e', join(dir, 'error.log')]);
  return spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('nginx did not start listening');
}
