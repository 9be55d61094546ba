import { taskStream } from '@agentwire/protocol';
import { memoryPerConnection, withServer, type Context, type Row } from './context.js';

/**
 * Idle connections: each subscribed to a stream of its own and then left alone. What it costs is
 * the server's resident memory growth (after a full GC for the Node servers) per connection.
 */
export async function runIdle(ctx: Context, scenario: string, wanted: number): Promise<Row[]> {
  const count = Math.min(wanted, ctx.maxConnections);
  const capped = count < wanted ? `capped at ${count} by the open-file limit` : undefined;
  const streams = Array.from({ length: count }, (_, i) => taskStream(`idle-${i}`));
  const rows: Row[] = [];
  for (const kind of ctx.servers) {
    ctx.log(`${scenario}: ${kind} (${count} connections)`);
    rows.push(
      await withServer(ctx, kind, {}, async (server) => {
        const mem = await memoryPerConnection(
          ctx,
          server,
          async () => (await ctx.group.open(kind, server.port, streams)).ok,
        );
        const notes = [capped, mem.opened < count ? `only ${mem.opened} connected` : undefined].filter(
          Boolean,
        );
        const row: Row = {
          scenario,
          server: kind,
          mode: `${mem.opened} idle`,
          rssMB: mem.rss / 2 ** 20,
          bytesPerConn: mem.bytesPerConn,
          primary: 'bytesPerConn',
          ...(notes.length > 0 && { note: notes.join('; ') }),
        };
        return row;
      }),
    );
  }
  return rows;
}
