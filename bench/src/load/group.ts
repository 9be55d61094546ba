import { Worker } from 'node:worker_threads';
import { Histogram } from '../hist.js';
import type { ConnTarget, Dialect } from './lean-conn.js';
import type { OpenResult, ReopenResult, Snapshot, WorkerRequest } from './worker.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Request = DistributiveOmit<WorkerRequest, 'id'>;

// Each source address gets at most this many connections: connect() searches the ephemeral port
// range for a free port per source address, and that search slows as the address fills up.
const PER_ADDRESS = 1000;
// Addresses are never reused within a run, so sockets still in TIME_WAIT from an earlier scenario
// cannot collide with new ones; each run starts at a random one of the 62,500, so neither can the
// TIME_WAIT sockets a previous run left behind (tens of thousands, each one a port connect() must skip).
const ADDRESSES = 250 * 250;
let nextAddress = Math.floor(Math.random() * ADDRESSES);

function takeAddresses(connections: number): string[] {
  const n = Math.max(1, Math.ceil(connections / PER_ADDRESS));
  return Array.from({ length: n }, () => {
    const k = nextAddress++ % ADDRESSES;
    return `127.0.${1 + Math.floor(k / 250)}.${1 + (k % 250)}`;
  });
}

export interface GroupSnapshot {
  delivered: number;
  hist: Histogram;
  open: number;
  closes: Map<number, number>;
}

/**
 * The client side of a scenario: `workers` threads sharing the load core, each owning a slice of
 * the connections. The controller only sends commands and merges what the threads count.
 */
export class LoadGroup {
  private readonly workers: Worker[];
  private seq = 0;
  private readonly waiting = new Map<number, (value: Record<string, unknown>) => void>();

  constructor(workers: number) {
    this.workers = Array.from({ length: workers }, () => {
      const w = new Worker(new URL('./worker.js', import.meta.url));
      w.on('message', (msg: { id: number }) => {
        const resolve = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        resolve?.(msg as Record<string, unknown>);
      });
      w.on('error', (err) => console.error('load worker failed:', err));
      return w;
    });
  }

  private ask<T>(worker: Worker, req: Request): Promise<T> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (msg) => (msg.error ? reject(new Error(String(msg.error))) : resolve(msg as T)));
      worker.postMessage({ ...req, id });
    });
  }

  private all<T>(make: (index: number) => Request): Promise<T[]> {
    return Promise.all(this.workers.map((w, i) => this.ask<T>(w, make(i))));
  }

  /** Opens one subscriber per stream in `streams` (repeat a stream for broadcast). */
  async open(
    dialect: Dialect,
    port: number,
    streams: string[],
    { resumable = false, inflight = 256, timeoutMs = 120_000, coalesce = false } = {},
  ): Promise<OpenResult> {
    const addresses = takeAddresses(streams.length);
    const targets: ConnTarget[][] = this.workers.map(() => []);
    streams.forEach((stream, i) => {
      const localAddress = addresses[Math.floor(i / PER_ADDRESS)]!;
      targets[i % this.workers.length]!.push({
        dialect,
        port,
        stream,
        localAddress,
        resumable,
        ...(coalesce && { coalesce }),
      });
    });
    const per = Math.max(1, Math.ceil(inflight / this.workers.length));
    const results = await this.all<OpenResult>((i) => ({
      type: 'open',
      targets: targets[i]!,
      inflight: per,
      timeoutMs,
    }));
    return {
      ok: results.reduce((s, r) => s + r.ok, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      readyAt: Math.max(...results.map((r) => r.readyAt)),
    };
  }

  async reset(): Promise<void> {
    await this.all(() => ({ type: 'reset' }));
  }

  async snapshot(): Promise<GroupSnapshot> {
    const snaps = await this.all<Snapshot>(() => ({ type: 'snapshot' }));
    const hist = new Histogram();
    const closes = new Map<number, number>();
    for (const s of snaps) {
      hist.add(new Histogram(s.hist));
      for (const [code, n] of s.closes) closes.set(code, (closes.get(code) ?? 0) + n);
    }
    return {
      delivered: snaps.reduce((sum, s) => sum + s.delivered, 0),
      hist,
      open: snaps.reduce((sum, s) => sum + s.open, 0),
      closes,
    };
  }

  async drop(): Promise<void> {
    await this.all(() => ({ type: 'drop' }));
  }

  /** Reconnects every dropped connection at once, resuming where it was; waits for `goal` events each. */
  async reopen(
    connections: number,
    goal: number,
    since?: number,
    inflight = 512,
    timeoutMs = 30_000,
  ): Promise<ReopenResult> {
    const addresses = takeAddresses(connections);
    const per = Math.max(1, Math.ceil(inflight / this.workers.length));
    const results = await this.all<ReopenResult>(() => ({
      type: 'reopen',
      addresses,
      goal,
      inflight: per,
      timeoutMs,
      ...(since !== undefined && { since }),
    }));
    const behind = results.reduce((s, r) => s + r.behind, 0);
    return {
      ok: results.reduce((s, r) => s + r.ok, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      readyAt: Math.max(...results.map((r) => r.readyAt)),
      doneAt: behind > 0 ? 0 : Math.max(...results.map((r) => r.doneAt)),
      behind,
    };
  }

  async close(): Promise<void> {
    await this.all(() => ({ type: 'close' }));
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
