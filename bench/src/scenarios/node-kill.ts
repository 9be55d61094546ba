import { randomBytes } from 'node:crypto';
import { createClient } from '@agentwire/client';
import { wipeRedisPrefix } from '@agentwire/server/testing';
import { io as ioClient } from 'socket.io-client';
import { Balancer } from '../load/balancer.js';
import { ServerProc } from '../server-proc.js';
import { hrNow, sleep, type Context, type Row } from './context.js';

export interface NodeKillOptions {
  subscribers: number;
  /** Events per second the publisher sends, for `durationMs`; the second node dies at `killAtMs`. */
  rate: number;
  durationMs: number;
  killAtMs: number;
  redisUrl: string;
}

const STREAM = 'task:node-kill';

/** What one subscriber saw: every seq it was handed, how often, and whether its node went away. */
class Tally {
  readonly seen = new Map<number, number>();
  received = 0;
  dropped = false;
  /** Socket.IO's own verdict on reconnect: the session and missed packets were restored. */
  restored = false;
  lastAt = 0;
  /** Back on a node after the drop; then when (monotonic ns) the first event came through it. */
  reconnected = false;
  firstAfterReconnect = 0;

  record(seq: number): void {
    const now = hrNow();
    this.lastAt = now;
    if (this.reconnected && this.firstAfterReconnect === 0) this.firstAfterReconnect = now;
    this.received++;
    this.seen.set(seq, (this.seen.get(seq) ?? 0) + 1);
  }
}

interface Subscriber {
  tally: Tally;
  close(): void;
}

/**
 * Node kill: two nodes of one server on one Redis behind a TCP load balancer, `subscribers` spread
 * over both through it, a publisher streaming into the first node; the second node is killed with
 * SIGKILL mid-stream, and its subscribers reconnect (through the balancer, to the survivor) with
 * their client's own reconnect and resume. Counted per subscriber: events lost (published, never
 * handed to the application) and duplicated (handed more than once).
 *
 * agentwire: the Redis engine, `@agentwire/client` resuming from its last seq. Socket.IO: the Redis
 * Streams adapter with connection state recovery, `socket.io-client` with its defaults.
 */
export async function runNodeKill(ctx: Context, scenario: string, options: NodeKillOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const kind of ctx.servers) {
    if (kind !== 'agentwire' && kind !== 'socketio') continue;
    ctx.log(`${scenario}: ${kind}`);
    const prefix = `bench-node-kill-${randomBytes(4).toString('hex')}:`;
    const redis = { url: options.redisUrl, prefix };
    const start = { ...ctx.start, engine: 'redis' as const, recovery: true, redis };
    const nodes = [await ServerProc.start(kind, start), await ServerProc.start(kind, start)];
    const [survivor, victim] = nodes as [ServerProc, ServerProc];
    const balancer = await Balancer.start(nodes.map((n) => n.port));
    const subs: Subscriber[] = [];
    try {
      for (let i = 0; i < options.subscribers; i++) {
        subs.push(await (kind === 'agentwire' ? agentwireSubscriber : socketIoSubscriber)(balancer.port));
      }
      const onVictim = await victim.connections();
      const run = survivor.request<{ published: number }>({
        cmd: 'run',
        streams: { prefix: STREAM, count: 0 },
        rate: options.rate,
        durationMs: options.durationMs,
      });
      await sleep(options.killAtMs);
      const killedAt = hrNow();
      await victim.kill();
      const { published } = await run;
      // Time for the last reconnects (backoffs of up to a few seconds) and their catch-up.
      const settle = Date.now() + 15_000;
      const complete = (s: Subscriber): boolean => s.tally.seen.size >= published;
      while (Date.now() < settle && !subs.every(complete)) await sleep(100);
      await sleep(300); // late duplicates, if any, arrive now

      let lost = 0;
      let lostSubs = 0;
      let duplicated = 0;
      let dropped = 0;
      let recovered = 0;
      let restored = 0;
      const waits: number[] = [];
      for (const s of subs) {
        let missing = 0;
        for (let seq = 1; seq <= published; seq++) if (!s.tally.seen.has(seq)) missing++;
        lost += missing;
        if (missing > 0) lostSubs++;
        duplicated += s.tally.received - s.tally.seen.size;
        if (s.tally.dropped) {
          dropped++;
          if (missing === 0) recovered++;
          if (s.tally.restored) restored++;
          const { firstAfterReconnect } = s.tally;
          waits.push(firstAfterReconnect > 0 ? (firstAfterReconnect - killedAt) / 1e9 : Infinity);
        }
      }
      const afterKillS = (hrNow() - killedAt) / 1e9;
      rows.push({
        scenario,
        server: kind,
        mode: `${subs.length} subs (${onVictim} on the killed node), ${published} events`,
        // From the kill until the last of the killed node's subscribers had an event from the survivor.
        timeS: waits.length > 0 ? Math.max(...waits) : 0,
        primary: 'timeS',
        note: [
          `recovered ${recovered}/${dropped}`,
          `lost ${lost} events (${lostSubs} subs)`,
          `duplicated ${duplicated}`,
          `first event from the survivor: median ${median(waits).toFixed(1)} s after the kill`,
          kind === 'socketio' ? `socket.recovered ${restored}/${dropped}` : '',
          lost === 0 ? `all complete ${afterKillS.toFixed(1)} s after the kill` : '',
        ]
          .filter(Boolean)
          .join('; '),
      });
    } finally {
      for (const s of subs) s.close();
      await balancer.close();
      await Promise.all(nodes.map((n) => n.stop()));
      await wipeRedisPrefix(options.redisUrl, prefix);
    }
  }
  return rows;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function agentwireSubscriber(port: number): Promise<Subscriber> {
  const tally = new Tally();
  const client = createClient({ url: `http://127.0.0.1:${port}`, transports: ['websocket'] });
  let opened = false;
  client.on('status', (status) => {
    if (status === 'websocket') {
      if (tally.dropped) tally.reconnected = true;
      opened = true;
    } else if (opened && status === 'connecting') tally.dropped = true;
  });
  const sub = client.subscribe(STREAM, { since: { seq: 0 }, snapshot: false });
  sub.onEvent((envelope) => tally.record(envelope.seq));
  await sub.ready;
  return { tally, close: () => void client.close() };
}

async function socketIoSubscriber(port: number): Promise<Subscriber> {
  const tally = new Tally();
  const socket = ioClient(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    query: { stream: STREAM },
  });
  socket.on('event', (envelope: { seq: number }) => tally.record(envelope.seq));
  socket.on('disconnect', () => (tally.dropped = true));
  socket.on('connect', () => {
    if (tally.dropped) tally.reconnected = true;
    if (tally.dropped && socket.recovered) tally.restored = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { tally, close: () => void socket.close() };
}
