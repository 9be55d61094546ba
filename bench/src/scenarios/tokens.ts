import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { taskStream } from '@agentwire/protocol';
import type { ServerKind } from '../server-proc.js';
import type { ServerProc } from '../server-proc.js';
import type { RunResult } from '../servers/driver.js';
import { fmtRate } from './fanout.js';
import { hrNow, latencies, sleep, withServer, type Context, type Row } from './context.js';

/**
 * The AI workload: many tasks at once, each streaming token deltas at `TOKENS_PER_S` to two
 * watchers, people joining mid-answer every second, and 1 % of the watchers on a link that reads
 * at a tenth of the rate. agentwire publishes through the agent SDK into a durable (SQLite) log;
 * the peers keep each task's deltas in memory and replay them to a late joiner in one frame.
 */
export interface TokensSpec {
  tasks: number;
  durationMs: number;
  joinsPerS: number;
}

const TOKENS_PER_S = 50;
const WATCHERS = 2;
const SLOW_SHARE = 0.01;
/** Bytes per token on the wire, about: a slow reader's budget is a tenth of that rate. */
const TOKEN_FRAME_BYTES = 230;
const DRAIN_MS = 2000;

const rawSocket = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

function wsUrl(kind: ServerKind, port: number, stream: string, history: boolean): string {
  const s = encodeURIComponent(stream);
  const h = history ? '&history=1' : '';
  switch (kind) {
    case 'agentwire':
      return `ws://127.0.0.1:${port}/v1/ws`;
    case 'ws':
      return `ws://127.0.0.1:${port}/?stream=${s}${h}`;
    case 'socketio':
      return `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&stream=${s}${h}`;
    case 'nchan':
      throw new Error('nchan has no token streams here');
  }
}

/** The envelopes in one frame of any of the three dialects. */
function envelopesOf(kind: ServerKind, text: string): { type: string; data: { delta?: string } }[] {
  if (kind === 'socketio') {
    if (!text.startsWith('42')) return [];
    const [name, payload] = JSON.parse(text.slice(2)) as [string, unknown];
    return name === 'event' ? [payload as never] : [];
  }
  const op = JSON.parse(text) as { op?: string; event?: unknown; events?: unknown[]; type?: string };
  if (kind === 'ws') return op.type ? [op as never] : [];
  if (op.op === 'event') return [op.event as never];
  if (op.op === 'events') return op.events as never[];
  return [];
}

/** Joins a task mid-answer the way each server offers it; resolves with the bytes that took. */
function lateJoin(kind: ServerKind, port: number, stream: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl(kind, port, stream, true), { perMessageDeflate: false });
    const done = (bytes: number): void => {
      resolve(bytes);
      ws.terminate();
    };
    const timer = setTimeout(() => done(NaN), 10_000);
    ws.on('error', () => done(NaN));
    ws.on('message', (data) => {
      const text = data.toString();
      const finished =
        (kind === 'agentwire' && text.startsWith('{"op":"subscribed"')) ||
        (kind === 'ws' && text.startsWith('[')) ||
        (kind === 'socketio' && text.startsWith('42["history"'));
      if (finished) {
        clearTimeout(timer);
        done(rawSocket(ws).bytesRead);
      } else if (kind === 'agentwire' && text.startsWith('{"op":"hello"'))
        ws.send(JSON.stringify({ op: 'subscribe', stream, snapshot: true, coalesce: true }));
      else if (kind === 'socketio' && text.startsWith('0{')) ws.send('40');
      else if (kind === 'socketio' && text === '2') ws.send('3');
    });
  });
}

/**
 * A watcher on a bad link: its socket is read at `bytesPerS` at most (paused whenever it is ahead
 * of that budget), so the server has to hold, merge or drop what it cannot send. It keeps the text.
 */
class SlowReader {
  text = '';
  closed = false;
  private readonly ws: WebSocket;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();

  constructor(
    readonly kind: ServerKind,
    port: number,
    readonly stream: string,
    private readonly bytesPerS: number,
  ) {
    this.ws = new WebSocket(wsUrl(kind, port, stream, false), { perMessageDeflate: false });
    this.ws.on('error', () => {});
    this.ws.on('close', () => (this.closed = true));
    this.ws.on('message', (data) => {
      const text = data.toString();
      if (kind === 'agentwire' && text.startsWith('{"op":"hello"'))
        this.ws.send(JSON.stringify({ op: 'subscribe', stream, coalesce: true }));
      else if (kind === 'socketio' && text.startsWith('0{')) this.ws.send('40');
      else if (kind === 'socketio' && text === '2') this.ws.send('3');
      else for (const e of envelopesOf(kind, text)) if (e.type === 'message:delta') this.text += e.data.delta;
    });
    this.timer = setInterval(() => this.throttle(), 20);
  }

  ready(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.OPEN) resolve();
      else this.ws.once('open', () => resolve());
    });
  }

  private throttle(): void {
    const socket = rawSocket(this.ws);
    if (!socket) return;
    const allowed = ((Date.now() - this.started) / 1000) * this.bytesPerS;
    if (socket.bytesRead > allowed) socket.pause();
    else socket.resume();
  }

  /** Reads at full speed from now on. */
  unthrottle(): void {
    clearInterval(this.timer);
    rawSocket(this.ws)?.resume();
  }

  /** The token indices in the text, checked to be 0, 1, 2, … with nothing lost, repeated or cut. */
  tokens(): number | undefined {
    let n = 0;
    for (const m of this.text.matchAll(/ (\d+)~t\d+/g)) if (Number(m[1]) !== n++) return undefined;
    return this.text.replace(/ \d+~t\d+/g, '') === '' ? n : undefined;
  }

  close(): void {
    clearInterval(this.timer);
    this.ws.terminate();
  }
}

async function tokensOn(ctx: Context, kind: ServerKind, spec: TokensSpec): Promise<Row> {
  const extra = kind === 'agentwire' ? { engine: 'sqlite' as const } : {};
  return withServer(ctx, kind, extra, async (server: ServerProc) => {
    const streams = Array.from({ length: spec.tasks }, (_, i) => taskStream(`tok${i}`));
    const watchers = streams.flatMap((s) => Array.from({ length: WATCHERS }, () => s));
    const slowCount = Math.max(1, Math.round(watchers.length * SLOW_SHARE));
    // The slow ones replace as many ordinary watchers, on tasks spread over the range.
    const slowTasks = Array.from({ length: slowCount }, (_, i) =>
      Math.floor(((i + 0.5) * spec.tasks) / slowCount),
    );
    for (const t of slowTasks) watchers.splice(watchers.indexOf(streams[t]!), 1);
    const opened = await ctx.group.open(kind, server.port, watchers, { coalesce: kind === 'agentwire' });
    if (opened.failed > 0) ctx.log(`${kind}: ${opened.failed} watchers failed to connect`);
    const slow = slowTasks.map(
      (t) => new SlowReader(kind, server.port, streams[t]!, (TOKENS_PER_S * TOKEN_FRAME_BYTES) / 10),
    );
    await Promise.all(slow.map((r) => r.ready()));
    await sleep(200);

    await ctx.group.reset();
    const cpu0 = server.cpuSeconds();
    const t0 = hrNow();
    const rate = spec.tasks * TOKENS_PER_S;
    const run = server.request<RunResult>({
      cmd: 'tokens',
      streams: { prefix: 'task:tok', count: spec.tasks },
      rate,
      durationMs: spec.durationMs,
    });
    // Late joiners from the second second on (every task has text by then), and the held memory.
    const joins: Promise<number>[] = [];
    let maxHeld = 0;
    let finished = false;
    void run.finally(() => (finished = true));
    await sleep(1000);
    const started = Date.now();
    for (let i = 0; !finished; i++) {
      const due = started + (i * 1000) / spec.joinsPerS;
      await sleep(Math.max(0, due - Date.now()));
      if (finished) break;
      joins.push(lateJoin(kind, server.port, streams[(i * 7919) % spec.tasks]!));
      if (i % Math.max(1, Math.round(spec.joinsPerS / 4)) === 0) {
        const stats = await server.request<{ heldBytes: number }>({ cmd: 'stats' });
        maxHeld = Math.max(maxHeld, stats.heldBytes);
      }
    }
    const { published } = await run;
    const expected = (published - (published % spec.tasks)) / spec.tasks; // at least, per task
    let snap = await ctx.group.snapshot();
    const target = (published / spec.tasks) * (watchers.length / spec.tasks) * spec.tasks;
    for (const end = Date.now() + DRAIN_MS; snap.delivered < target && Date.now() < end;) {
      await sleep(20);
      snap = await ctx.group.snapshot();
    }
    const wallS = (hrNow() - t0) / 1e9;
    const cpuS = server.cpuSeconds() - cpu0;
    const scheduled = Math.floor((rate * spec.durationMs) / 1000);
    const joinBytes = (await Promise.all(joins)).filter((b) => Number.isFinite(b));

    // The slow readers now read freely: is the text they end with exactly what was streamed?
    for (const r of slow) r.unthrottle();
    const perTask = (t: number) => expected + (t < published % spec.tasks ? 1 : 0);
    for (const end = Date.now() + 20_000; Date.now() < end; await sleep(50)) {
      if (slow.every((r, i) => r.closed || (r.tokens() ?? -1) >= perTask(slowTasks[i]!))) break;
    }
    const exact = slow.filter((r, i) => r.tokens() === perTask(slowTasks[i]!)).length;
    const evicted = slow.filter((r) => r.closed).length;
    for (const r of slow) r.close();

    const sorted = joinBytes.sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
    const closed = [...snap.closes].map(([code, n]) => `${n}×${code === -1 ? 'eof' : code}`).join(' ');
    const delivered = snap.delivered;
    ctx.log(
      `  ${kind} tokens: ${Math.round(delivered / wallS)} deliveries/s; ${published} of ${scheduled} tokens published on schedule; late join median ${median} B; slow readers exact ${exact}/${slow.length}, held max ${Math.round(maxHeld / 1024)} KiB`,
    );
    return {
      scenario: 'tokens',
      server: kind,
      mode: `${spec.tasks} tasks × ${TOKENS_PER_S}/s, ${fmtRate(rate * WATCHERS)}/s`,
      perSec: delivered / wallS,
      ...latencies(snap.hist),
      cpuS,
      wallS,
      rssMB: server.rssBytes() / 2 ** 20,
      primary: 'p99',
      note: [
        published < 0.99 * scheduled &&
          `${((100 * published) / scheduled).toFixed(0)}% published on schedule`,
        delivered < 0.99 * target && `${((100 * delivered) / target).toFixed(0)}% delivered`,
        `late join ${Math.round(median).toLocaleString('en-US')} B (${joinBytes.length})`,
        `slow: ${exact}/${slow.length} exact${evicted ? `, ${evicted} evicted` : ''}, held ≤ ${Math.round(maxHeld / 1024)} KiB`,
        closed && `closed ${closed}`,
      ]
        .filter(Boolean)
        .join('; '),
    };
  });
}

export async function runTokens(ctx: Context, spec: TokensSpec): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of ctx.servers) {
    if (kind === 'nchan') continue;
    ctx.log(`tokens: ${kind}`);
    rows.push(await tokensOn(ctx, kind, spec));
  }
  return rows;
}
