import { taskStream } from '@agentwire/protocol';
import { Histogram } from '../hist.js';
import { PipelinedHttp } from '../http-pipe.js';
import type { ServerProc } from '../server-proc.js';
import { fmtRate } from './fanout.js';
import { hrNow, latencies, withServer, type Context, type Row } from './context.js';

const BATCH = 100;
const STREAMS = 16;
// Node's HTTP server answers one request per connection at a time, pipelined or not, so
// concurrency comes from connections, as it would from many producers.
const HTTP_CONNECTIONS = 32;
/** Batches in flight per connection when saturating over HTTP. */
const HTTP_DEPTH = 2;
/** Events in flight when saturating through the SDK. */
const SDK_WINDOW = 4000;

function body(): string {
  const stamp = hrNow();
  const event = `{"type":"custom:event","data":{"name":"bench","payload":{"t":${stamp}}}}`;
  return `{"events":[${Array.from({ length: BATCH }, () => event).join(',')}]}`;
}

interface Measured {
  acked: number;
  failed: number;
  hist: Histogram;
  wallS: number;
}

/**
 * HTTP batch ingest from the load core: POST /v1/streams/{stream}/events with BATCH events per
 * request, pipelined over keep-alive sockets. Open loop at `rate` events/s, or closed loop with
 * HTTP_DEPTH batches in flight per connection when `rate` is undefined.
 */
async function httpIngest(server: ServerProc, durationMs: number, rate?: number): Promise<Measured> {
  const http = new PipelinedHttp(server.port, HTTP_CONNECTIONS);
  await http.open();
  const hist = new Histogram();
  let acked = 0;
  let failed = 0;
  let sent = 0;
  const start = hrNow();
  const end = start + durationMs * 1e6;
  const send = (stamp: number, connection?: number, then?: () => void): void => {
    const stream = taskStream(`ingest-${sent++ % STREAMS}`);
    http.post(
      `/v1/streams/${encodeURIComponent(stream)}/events`,
      body(),
      'application/json',
      (status) => {
        if (status === 200) {
          acked += BATCH;
          hist.record((hrNow() - stamp) / 1000, BATCH);
        } else failed += BATCH;
        then?.();
      },
      connection,
    );
  };
  await new Promise<void>((resolve) => {
    if (rate !== undefined) {
      const interval = (1e9 * BATCH) / rate;
      const total = Math.floor(((durationMs / 1000) * rate) / BATCH);
      const tick = (): void => {
        const due = Math.min(total, Math.floor((hrNow() - start) / interval) + 1);
        // Stamped with the due time, so a late response counts its whole wait.
        while (sent < due) send(start + sent * interval);
        if (sent >= total) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    } else {
      let lanes = HTTP_CONNECTIONS * HTTP_DEPTH;
      const lane = (connection: number): void => {
        if (hrNow() >= end) {
          if (--lanes === 0) resolve();
          return;
        }
        send(hrNow(), connection, () => lane(connection));
      };
      for (let i = 0; i < HTTP_CONNECTIONS * HTTP_DEPTH; i++) lane(i % HTTP_CONNECTIONS);
    }
  });
  while (http.outstanding > 0) await new Promise((resolve) => setTimeout(resolve, 2));
  const wallS = (hrNow() - start) / 1e9;
  http.close();
  return { acked, failed, hist, wallS };
}

async function sdkIngest(server: ServerProc, durationMs: number, rate?: number): Promise<Measured> {
  const r = await server.request<{ acked: number; failed: number; elapsedMs: number; hist: Float64Array }>({
    cmd: 'ingest',
    mode: rate === undefined ? 'saturate' : 'rate',
    streams: { prefix: 'task:sdk-', count: STREAMS },
    rate: rate ?? 0,
    window: SDK_WINDOW,
    durationMs,
  });
  return { acked: r.acked, failed: r.failed, hist: new Histogram(r.hist), wallS: r.elapsedMs / 1000 };
}

/**
 * Durable ingest on SQLite (WAL, synchronous=normal: a commit survives the process being killed),
 * through HTTP batches and through the in-process SDK, at a fixed rate and at saturation. Only
 * agentwire takes part: none of the peers has a durable log to append to.
 */
export async function runIngest(ctx: Context, scenario: string, fixedRate: number): Promise<Row[]> {
  if (!ctx.servers.includes('agentwire')) return [];
  ctx.log(`${scenario}: agentwire (sqlite)`);
  return withServer(ctx, 'agentwire', { engine: 'sqlite' }, async (server) => {
    const rows: Row[] = [];
    const measure = async (
      mode: string,
      run: () => Promise<Measured>,
      primary: Row['primary'],
    ): Promise<void> => {
      const cpu0 = server.cpuSeconds();
      const load0 = process.cpuUsage();
      const m = await run();
      const load = process.cpuUsage(load0);
      ctx.log(`  ${mode}: ${Math.round(m.acked / m.wallS)} events/s acknowledged`);
      rows.push({
        scenario,
        server: 'agentwire',
        mode,
        perSec: m.acked / m.wallS,
        ...latencies(m.hist),
        cpuS: server.cpuSeconds() - cpu0,
        wallS: m.wallS,
        rssMB: server.rssBytes() / 2 ** 20,
        loadPct: ((load.user + load.system) / 1e6 / m.wallS) * 100,
        primary,
        ...(m.failed > 0 && { note: `${m.failed} events refused` }),
      });
    };
    const { fixedMs, stepMs } = ctx.scale;
    await httpIngest(server, Math.min(500, fixedMs), fixedRate / 4); // warm-up
    await measure(
      `http b=${BATCH} ${fmtRate(fixedRate)}/s`,
      () => httpIngest(server, fixedMs, fixedRate),
      'p99',
    );
    await measure(`http b=${BATCH} saturation`, () => httpIngest(server, stepMs * 2), 'perSec');
    await sdkIngest(server, Math.min(500, fixedMs), fixedRate / 4); // warm-up, as for HTTP
    await measure(`sdk ${fmtRate(fixedRate)}/s`, () => sdkIngest(server, fixedMs, fixedRate), 'p99');
    await measure('sdk saturation', () => sdkIngest(server, stepMs * 2), 'perSec');
    return rows;
  });
}
