/**
 * A real WebSocket server for tests that speaks the protocol only as far as a test scripts it:
 * it records every op the client sends and sends exactly the frames the test asks for.
 * Not part of the published package (excluded in package.json `files`).
 */
import type { AddressInfo } from 'node:net';
import {
  PROTOCOL_VERSION,
  type AnyEnvelope,
  type ClientOp,
  type EventType,
  type ServerOp,
  type SubscribedOp,
} from '@agentwire/protocol';
import { WebSocketServer, type WebSocket } from 'ws';

const WAIT_MS = 3_000;

export interface ScriptOptions {
  /** Send `hello` on connect (default true), with this heartbeat. */
  hello?: boolean;
  heartbeatMs?: number;
  /** Answer pings with pongs (default true). */
  pong?: boolean;
}

export class ScriptedServer {
  readonly url: string;
  readonly connections: ScriptedConnection[] = [];
  readonly #wss: WebSocketServer;
  readonly #waiters = new Set<() => void>();
  readonly options: ScriptOptions;

  private constructor(wss: WebSocketServer, options: ScriptOptions) {
    this.#wss = wss;
    this.options = options;
    this.url = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws) => {
      const conn = new ScriptedConnection(ws, this.options);
      this.connections.push(conn);
      for (const wake of [...this.#waiters]) wake();
    });
  }

  static async start(options: ScriptOptions = {}): Promise<ScriptedServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/ws' });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new ScriptedServer(wss, options);
  }

  /** The n-th connection (0-based), waiting for it if it has not arrived yet. */
  connection(n: number, timeoutMs = WAIT_MS): Promise<ScriptedConnection> {
    const have = this.connections[n];
    if (have) return Promise.resolve(have);
    return withTimeout(
      new Promise<ScriptedConnection>((resolve) => {
        const wake = () => {
          const c = this.connections[n];
          if (!c) return;
          this.#waiters.delete(wake);
          resolve(c);
        };
        this.#waiters.add(wake);
      }),
      timeoutMs,
      `connection #${n}`,
    );
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

export class ScriptedConnection {
  readonly received: ClientOp[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;
  readonly #ws: WebSocket;
  #cursor = 0;
  #wake: (() => void) | undefined;

  constructor(ws: WebSocket, options: ScriptOptions) {
    this.#ws = ws;
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data) => {
      const op = JSON.parse(data.toString()) as ClientOp;
      if (op.op === 'ping') {
        this.pings++;
        if (options.pong !== false)
          this.send({ op: 'pong', ...(op.ref && { ref: op.ref }), time: Date.now() });
        return;
      }
      this.received.push(op);
      this.#wake?.();
    });
    if (options.hello !== false) {
      this.send({
        op: 'hello',
        version: PROTOCOL_VERSION,
        connection: 'c1',
        heartbeatMs: options.heartbeatMs ?? 15_000,
      });
    }
  }

  /** The next op the client sent (pings excluded) that this test has not consumed yet. */
  async next<O extends ClientOp['op']>(op?: O, timeoutMs = WAIT_MS): Promise<Extract<ClientOp, { op: O }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#cursor < this.received.length) {
        const got = this.received[this.#cursor++]!;
        if (op === undefined || got.op === op) return got as Extract<ClientOp, { op: O }>;
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${op ?? 'an op'}; got ${JSON.stringify(this.received)}`);
      await withTimeout(new Promise<void>((resolve) => (this.#wake = resolve)), left, `op ${op ?? ''}`).catch(
        () => {},
      );
    }
  }

  send(op: ServerOp): void {
    this.#ws.send(JSON.stringify(op));
  }

  sendRaw(text: string): void {
    this.#ws.send(text);
  }

  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }
}

/** The `subscribed` reply to a subscribe op, echoing its stream and ref. */
export function subscribed(
  to: { stream: string; ref?: string | undefined },
  fields: Omit<SubscribedOp, 'op' | 'stream' | 'ref'>,
): SubscribedOp {
  return { op: 'subscribed', stream: to.stream, ...fields, ...(to.ref !== undefined && { ref: to.ref }) };
}

/** Builds an envelope for scripted frames. */
export function envelope<T extends EventType>(
  seq: number,
  type: T,
  data: unknown,
  { stream = 'task:1', epoch = 'e1', time = 1_000 + seq } = {},
): AnyEnvelope {
  return { stream, seq, epoch, id: `${stream}/${seq}`, type, time, data } as AnyEnvelope;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Spaces out the rounds of a loop that makes load or faults (a producer publishing, the connection
 * cut every few ms while it runs): the interval is the workload's rhythm, not a wait for anything.
 */
export const pace = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Lets `ms` pass on the real clock. Only for proving that something does NOT happen (no reconnect
 * after close, no drop while heartbeats flow, no probe when nothing is better): no event announces
 * an absence, so the test gives it a window to show up. Anything awaited positively uses until.
 */
export const letTimePass = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves when `check` returns a value other than undefined/false, polling every few ms. */
export async function until<T>(
  check: () => T | undefined | false,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
