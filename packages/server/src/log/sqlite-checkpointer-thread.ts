import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { messageOf } from '../error-text.js';

/**
 * The background checkpointer's thread: its own connection to the log database, copying WAL
 * frames back into the database file when asked, so the writer's event loop never does that bulk
 * copy itself: every append queued behind it would wait for the whole copy. PASSIVE never blocks
 * the writer or readers.
 */
interface CheckpointerData {
  path: string;
  busyTimeoutMs: number;
}

export type CheckpointerReply =
  | {
      ok: true;
      framesInWal: number;
      framesCopied: number;
      /** The last pass copied little, so little is left for the writer to copy itself. */
      caughtUp: boolean;
      /** A reader still used frames the pass could not copy: trying again at once would spin. */
      heldBack: boolean;
    }
  | { ok: false; message: string };

/** The answer to `integrity`: the first problems `PRAGMA quick_check` found, none when the file is sound. */
export interface IntegrityReply {
  integrity: true;
  problems: string[];
  /** SQLite's code when the check itself failed (the file cannot even be read as a database). */
  code?: string;
}

const MAX_PASSES = 4;
/** Frames committed during a pass below which another pass is not worth it. */
const SMALL_REMAINDER = 64;

const { path, busyTimeoutMs } = workerData as CheckpointerData;
const port = parentPort!;
const db = new Database(path, { timeout: busyTimeoutMs });
lowerPriority();

/**
 * The writer's core is usually this thread's core too, and at equal priority the scheduler hands
 * it whole time slices in the middle of the event loop's work, which every acknowledgement then
 * waits for. Nice 10 (a tenth of the writer's weight) mostly leaves it the time the event loop
 * leaves idle, yet still lets it keep up with a saturated writer; much lower and it falls behind
 * until the WAL reaches SQLite's bound (bench/results.md). Linux only (a thread's id is in
 * /proc/thread-self); elsewhere it keeps its priority.
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // Not Linux, or not allowed: checkpoints still run, at the thread's normal priority.
  }
}

port.on('message', (message: unknown) => {
  if (message === 'close') {
    db.close();
    port.close();
    return;
  }
  if (message === 'integrity') {
    port.postMessage(checkIntegrity());
    return;
  }
  let reply: CheckpointerReply;
  try {
    // Each pass copies what the writer committed during the one before, so the remainder shrinks
    // fast. The writer copies the last of it on its own thread, where appends wait for every frame,
    // so leave it as little as we can.
    let row: { log: number; checkpointed: number } | undefined;
    let caughtUp = false;
    let heldBack = false;
    for (let pass = 0; pass < MAX_PASSES && !caughtUp; pass++) {
      const before = row?.log ?? 0;
      [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      // A pass that could not copy everything is held back by a reader: another would be too.
      heldBack = !row || row.checkpointed < row.log;
      if (heldBack) break;
      caughtUp = row!.log - before <= SMALL_REMAINDER;
    }
    reply = {
      ok: true,
      framesInWal: row?.log ?? 0,
      framesCopied: row?.checkpointed ?? 0,
      caughtUp,
      heldBack,
    };
  } catch (err) {
    reply = { ok: false, message: messageOf(err) };
  }
  port.postMessage(reply);
});

/**
 * Reads every page of the database (`quick_check` skips only the index-content comparison), off
 * the writer's thread. Checkpoint requests wait behind it; on a large file the writer's own
 * autocheckpoint bounds the WAL meanwhile.
 */
function checkIntegrity(): IntegrityReply {
  try {
    const rows = db.pragma('quick_check(5)') as { quick_check: string }[];
    const problems = rows.map((r) => r.quick_check).filter((text) => text !== 'ok');
    return { integrity: true, problems };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return {
      integrity: true,
      problems: [messageOf(err)],
      ...(typeof code === 'string' && { code }),
    };
  }
}
