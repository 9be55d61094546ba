import { randomUUID } from 'node:crypto';

/**
 * The publishing side of every fan-out scenario, run inside (or next to) the server under test so
 * each server pays for its own publishing. Open loop: the schedule is fixed in advance and each
 * event is stamped with the time it was *due*, not the time it went out, so a server that falls
 * behind shows it in its latency instead of quietly slowing the schedule (coordinated omission).
 */

/** Streams are `${prefix}${i}` for i < count, or just `prefix` when count is 0. */
export interface StreamSet {
  prefix: string;
  count: number;
}

export function streamNames(set: StreamSet): string[] {
  return set.count === 0 ? [set.prefix] : Array.from({ length: set.count }, (_, i) => `${set.prefix}${i}`);
}

/** Publishes events stamped `stamps` (monotonic ns) to one stream, in order. */
export type PublishFn = (stream: string, stamps: number[]) => void;

export interface RunResult {
  published: number;
  /** How late the last tick ran behind its schedule, in ms: a sign the server could not keep up. */
  lagMs: number;
}

export const nowNs = (): number => Number(process.hrtime.bigint());

// Longest a tick keeps publishing before it yields to I/O and checks the deadline.
const TICK_BUDGET_NS = 50e6;

/**
 * Publishes `rate` events/s round-robin over `streams` for `durationMs` (or fewer, if it runs late).
 * Events of one stream due in the same tick go to `publish` together, up to `maxGroup`: a server
 * with a batch API (agentwire, through its SDK) gets them as one batch, the others one by one.
 */
export function runOpenLoop(
  streams: string[],
  rate: number,
  durationMs: number,
  publish: PublishFn,
  maxGroup = 1,
): Promise<RunResult> {
  const start = nowNs();
  const total = Math.floor((rate * durationMs) / 1000);
  const interval = 1e9 / rate;
  let sent = 0;
  let lagMs = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const now = nowNs();
      const due = Math.min(total, Math.floor((now - start) / interval) + 1);
      lagMs = Math.max(0, (now - (start + (due - 1) * interval)) / 1e6);
      // Consecutive events of the same stream go out together, as an SDK batching per turn would.
      // The clock is checked as we go: a slow server must not turn one tick into minutes.
      const stop = now + TICK_BUDGET_NS;
      while (sent < due && nowNs() < stop) {
        const stream = streams[sent % streams.length]!;
        const stamps: number[] = [];
        do stamps.push(start + sent++ * interval);
        while (sent < due && stamps.length < maxGroup && streams.length === 1);
        publish(stream, stamps);
      }
      // A server far behind its schedule would stretch the step without bound: stop on time.
      if (sent >= total || now - start >= durationMs * 1e6) resolve({ published: sent, lagMs });
      else setTimeout(tick, 1);
    };
    tick();
  });
}

/** The envelope the peers send: the same fields and size as an agentwire envelope. */
export class EnvelopeMaker {
  private readonly seqs = new Map<string, number>();
  private readonly epoch = randomUUID();

  make(stream: string, stamp: number): object {
    const seq = (this.seqs.get(stream) ?? 0) + 1;
    this.seqs.set(stream, seq);
    return {
      stream,
      seq,
      epoch: this.epoch,
      id: randomUUID(),
      type: 'custom:event',
      time: Date.now(),
      data: { name: 'bench', payload: { t: stamp } },
    };
  }
}

/** The event input agentwire's ingest takes; the gateway adds stream, seq, epoch, id and time. */
export function benchInput(stamp: number): {
  type: 'custom:event';
  data: { name: string; payload: { t: number } };
} {
  return { type: 'custom:event', data: { name: 'bench', payload: { t: stamp } } };
}

/**
 * Token streams (the `tokens` scenario): token `index` of a task's answer, stamped with its due
 * time after `~t`. The marker sits inside the delta's text, so a merged delta still carries every
 * token's stamp and the load side counts each token once, whatever merged it.
 */
export function tokenText(index: number, stamp: number): string {
  return ` ${index}~t${stamp}`;
}

/** The envelope the peers send for a token: the same fields and size as agentwire's. */
export class TokenMaker {
  private readonly seqs = new Map<string, number>();
  private readonly epoch = randomUUID();

  make(stream: string, stamp: number): { text: string; index: number; envelope: object } {
    const seq = (this.seqs.get(stream) ?? 0) + 1;
    this.seqs.set(stream, seq);
    const text = tokenText(seq - 1, stamp);
    return {
      text,
      index: seq - 1,
      envelope: {
        stream,
        seq,
        epoch: this.epoch,
        id: randomUUID(),
        type: 'message:delta',
        time: Date.now(),
        data: { messageId: 'answer', delta: text },
      },
    };
  }
}
