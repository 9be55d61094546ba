import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { messageOf } from '../error-text.js';

/**
 * The background checkpointer's thread: its own connection to the log database, copying WAL
 * frames back into the database file when asked, so the writer's event loop never does that bulk
 * copy itself (on this hardware ~45 ms per 10,000 pages, which every append queued behind it
 * would wait for). PASSIVE never blocks the writer or readers.
 */
interface CheckpointerData {
  path: string;
  busyTimeoutMs: number;
}

export type CheckpointerReply =
  { ok: true; framesInWal: number; framesCopied: number } | { ok: false; message: string };

const { path, busyTimeoutMs } = workerData as CheckpointerData;
const port = parentPort!;
const db = new Database(path, { timeout: busyTimeoutMs });

port.on('message', (message: unknown) => {
  if (message === 'close') {
    db.close();
    port.close();
    return;
  }
  let reply: CheckpointerReply;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
    reply = { ok: true, framesInWal: row?.log ?? 0, framesCopied: row?.checkpointed ?? 0 };
  } catch (err) {
    reply = { ok: false, message: messageOf(err) };
  }
  port.postMessage(reply);
});
