import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { io, type Socket } from 'socket.io-client';

/**
 * Resolves once `predicate` holds, checked every `intervalMs`; rejects after `timeoutMs` naming
 * `what`. The bound only turns a hang into a failure.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Lets `ms` pass on the real clock. Only for proving that something does NOT happen (a cancelled
 * task's agents publish nothing more): no event announces an absence, so the test gives it a window.
 */
export function letTimePass(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Spaces out the rounds of a loop that stands for work taking time (a fake agent talking until its
 * client leaves): the interval is the workload's rhythm, not a wait for anything.
 */
export function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A child process whose stdout and stderr are collected, in its own process group. */
export class Proc {
  private out = '';
  private exited: Promise<number | null>;
  exitCode: number | null | undefined;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  static start(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    return new Proc(
      spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, detached: true }),
    );
  }

  get output(): string {
    return this.out;
  }

  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  async match(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    let found: RegExpExecArray | null = null;
    await waitFor(
      () => {
        found = pattern.exec(this.out);
        if (!found && this.exitCode !== undefined)
          throw new Error(`exited with ${this.exitCode} before printing ${pattern}:\n${this.out}`);
        return found !== null;
      },
      `${pattern} in the output of ${this.child.spawnfile}:\n${this.out}`,
      timeoutMs,
    );
    return found!;
  }

  /** The exit code, once it exits by itself. */
  done(): Promise<number | null> {
    return this.exited;
  }

  /** SIGTERM to its whole process group (npm and sh start children), then its exit code. */
  async stop(): Promise<number | null> {
    if (this.exitCode === undefined && this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    return this.exited;
  }
}

/** A socket.io-client socket (what seeds 000-003 use) that records every event it receives. */
export class SeedSocket {
  readonly received: { event: string; payload: unknown }[] = [];

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string, ...args: unknown[]) => this.received.push({ event, payload: args[0] }));
  }

  static async open(url: string, options: Parameters<typeof io>[1]): Promise<SeedSocket> {
    const socket = io(url, { reconnection: false, forceNew: true, ...options });
    const seed = new SeedSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return seed;
  }

  of<T = Record<string, unknown>>(event: string): T[] {
    return this.received.filter((r) => r.event === event).map((r) => r.payload as T);
  }

  /** Waits for an `event` whose payload satisfies `match`, and returns it. */
  async waitFor<T = Record<string, unknown>>(
    event: string,
    match: (payload: T) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<T> {
    await waitFor(
      () => this.of<T>(event).some(match),
      `${event}; received ${JSON.stringify(this.received.map((r) => r.event).slice(-20))}`,
      timeoutMs,
    );
    return this.of<T>(event).find(match)!;
  }

  close(): void {
    this.socket.close();
  }
}
