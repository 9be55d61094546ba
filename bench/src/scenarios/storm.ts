import { hrNow, sleep, withServer, type Context, type Row } from './context.js';

/**
 * Reconnect storm: every subscriber drops at once; while they are away each stream gets `missed`
 * events; then all reconnect together, each resuming where it was. Measured: the time from the
 * first reconnect until the last subscriber has every missed event. Only servers that can resume
 * take part: agentwire (since seq), Socket.IO (connection state recovery) and nchan (message ids
 * through its ws+meta.nchan subprotocol, resumed with last_event_id).
 */
export async function runStorm(
  ctx: Context,
  scenario: string,
  subscribers: number,
  missed: number,
): Promise<Row[]> {
  const count = Math.min(subscribers, ctx.maxConnections);
  const set = { prefix: 'task:storm-', count: ctx.scale.stormStreams };
  const streams = Array.from({ length: count }, (_, i) => `${set.prefix}${i % set.count}`);
  const rows: Row[] = [];
  for (const kind of ctx.servers) {
    if (kind === 'ws') continue;
    ctx.log(`${scenario}: ${kind}`);
    rows.push(
      await withServer(ctx, kind, { recovery: true }, async (server) => {
        await ctx.group.open(kind, server.port, streams, { resumable: true });
        await ctx.group.reset();
        // One event each first, so every subscriber has a position (seq 1, an offset, a message id).
        await server.request({ cmd: 'burst', streams: set, perStream: 1 });
        for (let i = 0; i < 200 && (await ctx.group.snapshot()).delivered < count; i++) await sleep(25);
        await ctx.group.drop();
        for (let i = 0; i < 400 && (await server.connections()) > 0; i++) await sleep(25);
        await server.request({ cmd: 'burst', streams: set, perStream: missed });
        await ctx.group.reset();
        const cpu0 = server.cpuSeconds();
        const t0 = hrNow();
        const r = await ctx.group.reopen(count, missed, kind === 'agentwire' ? 1 : undefined);
        const doneS = r.doneAt > 0 ? (r.doneAt - t0) / 1e9 : (hrNow() - t0) / 1e9;
        const snap = await ctx.group.snapshot();
        const notes = [
          `all connected in ${((r.readyAt - t0) / 1e9).toFixed(2)} s`,
          r.failed > 0 ? `${r.failed} failed to reconnect` : '',
          r.behind > 0 ? `${r.behind} never caught up (gave up after ${doneS.toFixed(0)} s)` : '',
        ].filter(Boolean);
        const row: Row = {
          scenario,
          server: kind,
          mode: `${count} resume ${missed}`,
          perSec: snap.delivered / doneS,
          cpuS: server.cpuSeconds() - cpu0,
          wallS: doneS,
          rssMB: server.rssBytes() / 2 ** 20,
          timeS: r.behind > 0 ? Infinity : doneS,
          primary: 'timeS',
          note: notes.join('; '),
        };
        return row;
      }),
    );
  }
  return rows;
}
