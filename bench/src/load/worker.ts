import { parentPort } from 'node:worker_threads';
import { Histogram } from '../hist.js';
import { LeanConn, type ConnTarget, type Tally } from './lean-conn.js';

/** Requests from the load controller; every one is answered with `{ id, ...result }`. */
export type WorkerRequest =
  | { id: number; type: 'open'; targets: ConnTarget[]; inflight: number; timeoutMs: number }
  | { id: number; type: 'reset' }
  | { id: number; type: 'snapshot' }
  | { id: number; type: 'drop' }
  | {
      id: number;
      type: 'reopen';
      addresses: string[];
      since?: number;
      goal: number;
      inflight: number;
      timeoutMs: number;
    }
  | { id: number; type: 'close' };

export interface Snapshot {
  delivered: number;
  hist: Float64Array;
  open: number;
  closes: [number, number][];
}

export interface OpenResult {
  ok: number;
  failed: number;
  /** Monotonic ns when the last connection was subscribed. */
  readyAt: number;
}

export interface ReopenResult extends OpenResult {
  /** Monotonic ns when the last connection had received `goal` events; 0 if some never did. */
  doneAt: number;
  behind: number;
}

const port = parentPort!;
const tally: Tally = { hist: new Histogram(), delivered: 0, closes: new Map() };
let conns: LeanConn[] = [];

const nowNs = (): number => Number(process.hrtime.bigint());

/** Opens connections with at most `inflight` handshakes under way, like clients with jittered retries. */
async function openAll(list: LeanConn[], inflight: number, timeoutMs: number): Promise<OpenResult> {
  let next = 0;
  let ok = 0;
  const deadline = Date.now() + timeoutMs;
  const lane = async (): Promise<void> => {
    while (next < list.length && Date.now() < deadline) {
      const conn = list[next++]!;
      // A handshake the server never answers must not hold its lane past the deadline.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>(
        (resolve) => (timer = setTimeout(() => resolve(false), deadline - Date.now())),
      );
      const opened = await Promise.race([conn.open(), late]);
      clearTimeout(timer);
      if (opened) ok++;
      else conn.drop();
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, list.length) }, lane));
  return { ok, failed: list.length - ok, readyAt: nowNs() };
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.type) {
    case 'open':
      conns = req.targets.map((t) => new LeanConn(t, tally));
      return openAll(conns, req.inflight, req.timeoutMs);
    case 'reset':
      tally.hist.reset();
      tally.delivered = 0;
      tally.closes.clear();
      for (const c of conns) c.trackOffsets = c.target.dialect === 'socketio' || c.target.resumable === true;
      return {};
    case 'snapshot': {
      const snap: Snapshot = {
        delivered: tally.delivered,
        hist: tally.hist.counts.slice(),
        open: conns.filter((c) => c.ready).length,
        closes: [...tally.closes],
      };
      return snap;
    }
    case 'drop':
      for (const c of conns) c.drop();
      return {};
    case 'reopen': {
      let remaining = conns.length;
      let doneAt = 0;
      let settle: () => void = () => {};
      const allDone = new Promise<void>((resolve) => (settle = resolve));
      const onGoal = (): void => {
        if (--remaining === 0) {
          doneAt = nowNs();
          settle();
        }
      };
      conns = conns.map((old, i) => {
        const t: ConnTarget = { ...old.target, localAddress: req.addresses[i % req.addresses.length]! };
        if (req.since !== undefined) t.since = req.since;
        if (old.pid && old.offset) t.recover = { pid: old.pid, offset: old.offset };
        if (t.dialect === 'nchan' && old.offset) t.lastEventId = old.offset;
        return new LeanConn(t, tally, req.goal, onGoal);
      });
      const opened = await openAll(conns, req.inflight, req.timeoutMs);
      const timer = new Promise<void>((resolve) => setTimeout(resolve, req.timeoutMs).unref());
      await Promise.race([allDone, timer]);
      const result: ReopenResult = { ...opened, doneAt, behind: remaining };
      return result;
    }
    case 'close':
      for (const c of conns) c.drop();
      conns = [];
      return {};
  }
}

port.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (result) => port.postMessage({ id: req.id, ...(result as object) }),
    (err: unknown) => port.postMessage({ id: req.id, error: String(err) }),
  );
});
