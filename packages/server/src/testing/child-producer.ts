import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildLine {
  event: string;
  at: number;
  [field: string]: unknown;
}

const script = fileURLToPath(new URL('./children/producer-child.js', import.meta.url));

/** A producer process (producer-child.ts) and the JSON lines it reports. */
export class ChildProducer {
  readonly lines: ChildLine[] = [];
  private waiters: (() => void)[] = [];
  private stderr = '';
  exited = false;

  private constructor(readonly process: ChildProcess) {
    let buffered = '';
    process.stdout!.setEncoding('utf8');
    process.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as ChildLine);
        } catch {
          this.stderr += `${line}\n`;
        }
        this.wake();
      }
    });
    process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    process.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  static spawn(config: Record<string, unknown>): ChildProducer {
    return new ChildProducer(
      spawn(process.execPath, [script, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  }

  /** The first reported line of `event` (matching `match`), waiting for it if need be. */
  async next(
    event: string,
    match: (l: ChildLine) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ChildLine> {
    const find = () => this.lines.find((l) => l.event === event && match(l));
    const found = find();
    if (found) return found;
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = find();
        if (line) {
          done();
          resolve(line);
        } else if (this.exited) {
          done();
          reject(
            new Error(`the producer exited before reporting ${event}; stderr: ${this.stderr.slice(-2_000)}`),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `no ${event} from the producer within ${timeoutMs} ms; lines: ${JSON.stringify(this.lines.slice(-5))}; stderr: ${this.stderr.slice(-2_000)}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.process.once('exit', () => resolve());
      this.process.kill(signal);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now();
