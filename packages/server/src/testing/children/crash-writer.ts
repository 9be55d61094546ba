// The child process of sqlite-crash.test.ts: appends to one stream until it is killed, printing a
// line per resolved append, so the parent knows exactly which events were acknowledged.
// Usage: node crash-writer.js <database path> <run tag>
import { pathToFileURL } from 'node:url';
import type { AppendInput } from '../../log/engine.js';
import { SqliteEngine } from '../../log/sqlite.js';

export const CRASH_STREAM = 'task:crash';

/**
 * The data of event `id`, derived from the id alone so the parent can check every stored event,
 * acknowledged or not. Every tenth event spans several pages, so a kill can land mid-record.
 */
export function crashPayload(id: string): { id: string; pad: string; digits: number[] } {
  const n = Number(id.slice(id.lastIndexOf('-') + 1)) || 0;
  return {
    id,
    pad: (n % 10 === 0 ? 'ab✓' : 'x').repeat(n % 10 === 0 ? 3000 : n % 97),
    digits: Array.from(String(n), Number),
  };
}

async function main(path: string, run: string): Promise<void> {
  const engine = new SqliteEngine({ path });
  const { epoch, head } = await engine.head(CRASH_STREAM);
  process.stdout.write(`ready ${epoch} ${head}\n`);
  let n = 0;
  const appendNext = (): void => {
    // Mostly single events, sometimes three, so group commits mix batch shapes.
    const size = n % 5 === 0 ? 3 : 1;
    const inputs: AppendInput[] = Array.from({ length: size }, () => {
      const id = `r${run}-${n++}`;
      return { id, type: 'log:entry', time: Date.now(), data: crashPayload(id) };
    });
    engine.append(CRASH_STREAM, inputs).then(
      (result) => {
        process.stdout.write(`ack ${result.results.map((r) => `${r.seq}:${r.id}`).join(' ')}\n`);
        appendNext();
      },
      (err: unknown) => {
        process.stderr.write(`append failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  // A window of appends in flight keeps every group commit holding many of them.
  for (let i = 0; i < 64; i++) appendNext();
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) {
  const [path, run] = process.argv.slice(2);
  if (!path || !run) {
    process.stderr.write('usage: crash-writer.js <database path> <run tag>\n');
    process.exit(2);
  }
  await main(path, run);
}
