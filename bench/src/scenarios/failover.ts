import { createGateway, openEngine, type Gateway, type LogEngine } from '@agentwire/server';
import { requireRedisSentinel, startSentinelSet } from '@agentwire/server/testing';
import { Histogram } from '../hist.js';
import { hrNow, latencies, sleep, type Context, type Row } from './context.js';

export interface FailoverOptions {
  /** Producers publishing at once, each one event at a time to a stream of its own. */
  producers: number;
  /** One window of the cost measurement; the two modes alternate for `rounds` windows each. */
  stepMs: number;
  rounds: number;
  /** How long publishing goes on after it succeeds again on the new primary. */
  afterMs: number;
}

/** One producer's acknowledged event ids, in its stream. */
interface Producer {
  stream: string;
  acked: string[];
}

type Mode = { name: string; waitReplicas: number };
const MODES: Mode[] = [
  { name: 'async replication', waitReplicas: 0 },
  { name: 'WAIT 1 replica', waitReplicas: 1 },
];
const SET = { replicas: 2, downAfterMs: 1000, failoverTimeoutMs: 3000 } as const;

/**
 * Redis failover: a primary, two replicas and three sentinels (down-after 1 s), gateways on the
 * Sentinel URL, `producers` publishing over HTTP one event at a time each, every refused event
 * retried with its id (as the agent SDK does). Two modes: acknowledging once the primary has a
 * commit (asynchronous replication, the default) and with `waitReplicas: 1` (WAIT first).
 *
 * Cost: one gateway per mode on the same Redis, the modes taking turns for `rounds` windows each,
 * so other work on the machine weighs on both alike; throughput and latency per mode.
 * Loss: per mode, a fresh set; publishing, the primary killed with SIGKILL, the sentinels promote
 * a replica, publishing goes on until `afterMs` after it works again. Then every stream is read
 * back from the new primary and the acknowledged events missing from it are counted, with the time
 * from the kill to the first acknowledged publish sent after it.
 *
 * The gateways run in this process: the figures compare the modes, not agentwire with its peers.
 */
export async function runFailover(ctx: Context, scenario: string, options: FailoverOptions): Promise<Row[]> {
  const skip = requireRedisSentinel();
  if (skip) {
    ctx.log(`${scenario}: ${skip}`);
    return [];
  }
  const rows: Row[] = [];
  ctx.log(`${scenario}: cost of WAIT`);
  rows.push(...(await measureCost(scenario, options)));
  for (const mode of MODES) {
    ctx.log(`${scenario}: kill -9 the primary, ${mode.name}`);
    rows.push(await measureLoss(scenario, options, mode));
  }
  return rows;
}

async function openGateway(url: string, mode: Mode, prefix: string): Promise<Gateway> {
  return createGateway({
    port: 0,
    logLevel: 'silent',
    engine: {
      kind: 'redis',
      url,
      prefix,
      ...(mode.waitReplicas > 0 && { waitReplicas: mode.waitReplicas, waitTimeoutMs: 1000 }),
    },
  });
}

async function measureCost(scenario: string, options: FailoverOptions): Promise<Row[]> {
  const set = await startSentinelSet(SET);
  const gateways: Gateway[] = [];
  const engines: LogEngine[] = [];
  try {
    for (const [i, mode] of MODES.entries()) {
      gateways.push(await openGateway(set.url, mode, `bench-cost-${i}:`));
      engines.push(
        await openEngine({
          kind: 'redis',
          url: set.url,
          prefix: `bench-cost-engine-${i}:`,
          ...(mode.waitReplicas > 0 && { waitReplicas: mode.waitReplicas, waitTimeoutMs: 1000 }),
        }),
      );
    }
    const paths = [
      {
        name: 'HTTP publish',
        send: (i: number, stream: string, id: string) => publish(gateways[i]!, stream, id),
      },
      {
        name: 'engine append',
        send: (i: number, stream: string, id: string) =>
          engines[i]!.append(stream, [{ id, type: 'log:entry', time: Date.now(), data: { id } }]).then(
            () => true,
            () => false,
          ),
      },
    ];
    const rows: Row[] = [];
    for (const path of paths) {
      const hists = MODES.map(() => new Histogram());
      const acked = MODES.map(() => 0);
      const wall = MODES.map(() => 0);
      // A short first window per mode, unmeasured, so connections and scripts are warm; the modes
      // swap places every round so neither always runs first.
      for (let round = -1; round < options.rounds; round++) {
        const order = round % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) {
          const started = hrNow();
          const ms = round < 0 ? 200 : options.stepMs;
          const window = await publishFor(
            (stream, id) => path.send(i, stream, id),
            options.producers,
            ms,
            `r${round}`,
          );
          if (round < 0) continue;
          wall[i]! += (hrNow() - started) / 1e9;
          acked[i]! += window.acked;
          hists[i]!.add(window.hist);
        }
      }
      rows.push(
        ...MODES.map((mode, i) => ({
          scenario,
          server: 'agentwire' as const,
          mode: `${mode.name}, ${path.name}`,
          perSec: acked[i]! / wall[i]!,
          ...latencies(hists[i]!),
          wallS: wall[i]!,
          primary: 'perSec' as const,
          note: `${options.producers} producers, one event per call; modes take turns ${options.rounds}×`,
        })),
      );
    }
    return rows;
  } finally {
    await Promise.all([...gateways, ...engines].map((g) => g.close()));
    await set.close();
  }
}

/** `producers` publishing one event at a time each for `ms`; what was acknowledged, how fast. */
async function publishFor(
  send: (stream: string, id: string) => Promise<boolean>,
  producers: number,
  ms: number,
  tag: string,
): Promise<{ acked: number; hist: Histogram }> {
  const hist = new Histogram();
  let acked = 0;
  const until = hrNow() + ms * 1e6;
  await Promise.all(
    Array.from({ length: producers }, async (_, p) => {
      for (let n = 0; hrNow() < until; n++) {
        const sent = hrNow();
        if (await send(`task:cost-${p}`, `${tag}-${p}-${n}`)) {
          hist.record((hrNow() - sent) / 1000);
          acked++;
        }
      }
    }),
  );
  return { acked, hist };
}

async function measureLoss(scenario: string, options: FailoverOptions, mode: Mode): Promise<Row> {
  const set = await startSentinelSet(SET);
  let gateway: Gateway | undefined;
  try {
    const gw = (gateway = await openGateway(set.url, mode, 'bench-failover:'));
    let stopping = false;
    /** Monotonic ns of the kill, and of the first acknowledgement of a request sent after it. */
    let killedAt = 0;
    let backAt = 0;
    const producers: Producer[] = Array.from({ length: options.producers }, (_, i) => ({
      stream: `task:failover-${i}`,
      acked: [],
    }));
    const loops = producers.map(async (p) => {
      for (let n = 0; !stopping; n++) {
        const id = `${p.stream}-${n}`;
        for (;;) {
          const sent = hrNow();
          if (await publish(gw, p.stream, id)) {
            if (killedAt > 0 && sent > killedAt && backAt === 0) backAt = hrNow();
            break;
          }
          if (stopping) return;
          await sleep(20);
        }
        p.acked.push(id);
      }
    });
    await sleep(options.stepMs);
    const oldPort = set.primary.port;
    killedAt = hrNow();
    await set.primary.kill('SIGKILL');
    await set.waitForFailover(oldPort, 60_000);
    while (backAt === 0 && hrNow() - killedAt < 60e9) await sleep(50);
    await sleep(options.afterMs);
    stopping = true;
    await Promise.all(loops);
    let missing = 0;
    let acked = 0;
    for (const p of producers) {
      const stored = await readIds(gw, p.stream);
      acked += p.acked.length;
      for (const id of p.acked) if (!stored.has(id)) missing++;
    }
    return {
      scenario,
      server: 'agentwire',
      mode: `${mode.name}, kill -9 primary`,
      timeS: backAt === 0 ? Number.POSITIVE_INFINITY : (backAt - killedAt) / 1e9,
      primary: 'timeS',
      note: `${missing} of ${acked} acknowledged events missing after the failover; time s = kill to the first acknowledged publish sent after it`,
    };
  } finally {
    await gateway?.close();
    await set.close();
  }
}

async function publish(gw: Gateway, stream: string, id: string): Promise<boolean> {
  try {
    const res = await fetch(`${gw.url}/v1/streams/${stream}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [{ id, type: 'log:entry', data: { level: 'info', message: id } }] }),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Every event id the stream holds now, read page by page over the HTTP API. */
async function readIds(gw: Gateway, stream: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let after = 0; ;) {
    const res = await fetch(`${gw.url}/v1/streams/${stream}/events?after=${after}&limit=1000`);
    const body = (await res.json()) as { events?: { id: string; seq: number }[] };
    const events = body.events ?? [];
    for (const e of events) ids.add(e.id);
    if (events.length === 0) return ids;
    after = events[events.length - 1]!.seq;
  }
}
