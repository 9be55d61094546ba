import type { Dialect } from '../load/lean-conn.js';
import type { GroupSnapshot } from '../load/group.js';
import type { ServerProc } from '../server-proc.js';
import type { RunResult, StreamSet } from '../servers/driver.js';
import {
  hrNow,
  latencies,
  memoryPerConnection,
  sleep,
  withServer,
  type Context,
  type Row,
} from './context.js';

export interface FanoutSpec {
  scenario: string;
  /** The stream of each subscriber (a stream repeated for broadcast). */
  subscribers: string[];
  /** Where the publisher spreads its events. */
  publish: StreamSet;
  /** Subscribers that receive each event. */
  fanout: number;
  /** Deliveries per second for the fixed-rate measurement (half the target where there is one). */
  fixedDeliveries: number;
}

interface Step {
  rate: number;
  expected: number;
  snap: GroupSnapshot;
  wallS: number;
  cpuS: number;
  loadPct: number;
  rssMB: number;
  held: boolean;
}

// A step holds if every delivery arrived within the drain window, nobody was disconnected and the
// tail stayed bounded: beyond that the server is queueing, not keeping up.
const DRAIN_MS = 1000;
const MAX_HELD_P99_MS = 500;

async function step(
  ctx: Context,
  server: ServerProc,
  spec: FanoutSpec,
  rate: number,
  durationMs: number,
): Promise<Step> {
  await ctx.group.reset();
  const cpu0 = server.cpuSeconds();
  const load0 = process.cpuUsage();
  const t0 = hrNow();
  const run = await server.request<RunResult>({ cmd: 'run', streams: spec.publish, rate, durationMs });
  const expected = run.published * spec.fanout;
  let snap = await ctx.group.snapshot();
  for (const end = Date.now() + DRAIN_MS; snap.delivered < expected && Date.now() < end;) {
    await sleep(20);
    snap = await ctx.group.snapshot();
  }
  const wallS = (hrNow() - t0) / 1e9;
  const load = process.cpuUsage(load0);
  const p99 = snap.hist.quantile(0.99) / 1000;
  return {
    rate,
    expected,
    snap,
    wallS,
    cpuS: server.cpuSeconds() - cpu0,
    loadPct: ((load.user + load.system) / 1e6 / wallS) * 100,
    rssMB: server.rssBytes() / 2 ** 20,
    held: snap.delivered >= 0.99 * expected && snap.closes.size === 0 && p99 < MAX_HELD_P99_MS,
  };
}

function rowOf(
  spec: FanoutSpec,
  kind: ServerProc['kind'],
  mode: string,
  s: Step,
  primary: Row['primary'],
  bytesPerConn: number,
): Row {
  const closed = [...s.snap.closes].map(([code, n]) => `${n}×${code === -1 ? 'eof' : code}`).join(' ');
  const notes = [
    s.held
      ? ''
      : `not sustained (${((100 * s.snap.delivered) / Math.max(1, s.expected)).toFixed(0)}% delivered)`,
    closed && `closed ${closed}`,
  ].filter(Boolean);
  return {
    scenario: spec.scenario,
    server: kind,
    mode,
    perSec: s.snap.delivered / s.wallS,
    ...latencies(s.snap.hist),
    cpuS: s.cpuS,
    wallS: s.wallS,
    rssMB: s.rssMB,
    bytesPerConn,
    loadPct: s.loadPct,
    primary,
    ...(notes.length > 0 && { note: notes.join('; ') }),
  };
}

/** Waits until deliveries stop arriving for a while, so one step's backlog does not spill into the next. */
async function quiesce(ctx: Context): Promise<void> {
  const poll = Math.max(10, ctx.scale.settleMs / 5);
  let last = -1;
  let still = 0;
  for (let i = 0; i < 20_000 / poll && still < 3; i++) {
    const { delivered } = await ctx.group.snapshot();
    still = delivered === last ? still + 1 : 0;
    last = delivered;
    await sleep(poll);
  }
}

/**
 * One fan-out scenario on one server: connect the subscribers, measure memory per connection,
 * run the fixed rate, then search for the highest rate the server sustains (double until a step
 * fails, then bisect).
 */
async function fanoutOn(ctx: Context, kind: ServerProc['kind'], spec: FanoutSpec): Promise<Row[]> {
  const dialect: Dialect = kind;
  return withServer(ctx, kind, {}, async (server) => {
    const open = async (): Promise<number> => {
      const r = await ctx.group.open(dialect, server.port, spec.subscribers);
      if (r.failed > 0)
        ctx.log(`${kind}: ${r.failed} of ${spec.subscribers.length} subscribers failed to connect`);
      return r.ok;
    };
    const mem = await memoryPerConnection(ctx, server, open);
    const measure = async (rate: number, ms: number): Promise<Step> => {
      const s = await step(ctx, server, spec, rate, ms);
      await quiesce(ctx);
      // A step that cost subscribers (slow-consumer closes) would skew every later step.
      if (s.snap.closes.size > 0) {
        await ctx.group.close();
        await open();
      }
      ctx.log(
        `  ${kind} ${spec.scenario} ${Math.round(rate * spec.fanout)} deliveries/s offered: ${Math.round(s.snap.delivered / s.wallS)} got${s.held ? '' : ' (not sustained)'}`,
      );
      return s;
    };
    const fixedRate = spec.fixedDeliveries / spec.fanout;
    if (ctx.scale.name !== 'smoke') await measure(fixedRate / 4, 500); // warm-up: JIT, buffers, first frames
    const fixed = await measure(fixedRate, ctx.scale.fixedMs);
    const rows = [
      rowOf(spec, kind, `fixed ${fmtRate(spec.fixedDeliveries)}/s`, fixed, 'p99', mem.bytesPerConn),
    ];

    let best: Step | undefined = fixed.held ? fixed : undefined;
    let failed: Step | undefined = fixed.held ? undefined : fixed;
    let fastest = fixed;
    // Below this a step publishes too few events to say anything.
    const minRate = 20 / (ctx.scale.stepMs / 1000);
    let rate = fixed.held ? fixedRate * 2 : fixedRate / 2;
    for (let i = 0; i < ctx.scale.searchSteps && rate >= minRate; i++) {
      const s = await measure(rate, ctx.scale.stepMs);
      if (s.held && (!best || s.rate > best.rate)) best = s;
      if (!s.held && (!failed || s.rate < failed.rate)) failed = s;
      if (s.snap.delivered / s.wallS > fastest.snap.delivered / fastest.wallS) fastest = s;
      if (best && failed && failed.rate / best.rate < 1.15) break;
      rate = !failed ? rate * 2 : best ? (best.rate + failed.rate) / 2 : rate / 2;
    }
    // No sustained rate at all: the most the server delivered is still its ceiling, marked as such.
    const sat = best ?? fastest;
    if (sat && ctx.scale.searchSteps > 0)
      rows.push(rowOf(spec, kind, 'saturation', sat, 'perSec', mem.bytesPerConn));
    return rows;
  });
}

export function fmtRate(n: number): string {
  return n >= 1e6 ? `${+(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : `${Math.round(n)}`;
}

export async function runFanout(ctx: Context, spec: FanoutSpec): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of ctx.servers) {
    ctx.log(`${spec.scenario}: ${kind}`);
    rows.push(...(await fanoutOn(ctx, kind, spec)));
  }
  return rows;
}
