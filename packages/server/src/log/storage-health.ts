import { AgentwireError } from '@agentwire/protocol';
import { messageOf } from '../error-text.js';

/** What is wrong with a log's storage, as readiness and the operator's log report it. */
export interface StorageFault {
  /** The storage's own code (`SQLITE_FULL`, `SQLITE_CORRUPT`, `ECONNREFUSED`, `OOM`), else the error's name. */
  cause: string;
  /** The full text, for the operator's log (it may name files and addresses; clients get `cause` only). */
  message: string;
  /** When this fault began, ms since the epoch. */
  since: number;
  /** No retry can fix it (a corrupt database): the log stays failed until it is repaired and restarted. */
  lasting: boolean;
  /** Failures seen since the fault began. */
  failures: number;
}

export type StorageFailureListener = (fault: StorageFault, err: unknown) => void;
export type StorageChangeListener = (fault: StorageFault | undefined) => void;

/** How long a refused producer is told to wait, in ms: about two probes. */
export const STORAGE_RETRY_AFTER_MS = 2_000;

/**
 * Whether a log engine can store events now. The engine reports every storage failure here (which
 * turns readiness off and is logged with its cause) and every success; while failing it probes by
 * itself (a small real write) and turns ready again as soon as one succeeds. A lasting fault (a
 * corrupt database) is not probed: readiness stays off until the operator acts.
 */
export class StorageHealth {
  #fault: StorageFault | undefined;
  #timer: NodeJS.Timeout | undefined;
  #probing = false;
  #closed = false;
  readonly #failureListeners = new Set<StorageFailureListener>();
  readonly #changeListeners = new Set<StorageChangeListener>();

  constructor(
    private readonly probe: () => Promise<void> | void,
    private readonly probeIntervalMs = 1_000,
  ) {}

  get fault(): StorageFault | undefined {
    return this.#fault;
  }

  /** Every failure, repeated ones included (the listener decides how much of it to log). */
  onFailure(listener: StorageFailureListener): () => void {
    this.#failureListeners.add(listener);
    return () => this.#failureListeners.delete(listener);
  }

  /** Each change between working and failing, and to another cause while failing. */
  onChange(listener: StorageChangeListener): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /**
   * Records a failure of the storage and returns the error the caller should be refused with:
   * `storage_unavailable`, naming only the cause (the full text goes to the operator's log).
   */
  fail(err: unknown, context: string, lasting = isLasting(err)): AgentwireError {
    const cause = causeOf(err);
    const message = `${context}: ${messageOf(err)}`;
    const prior = this.#fault;
    const changed = !prior || prior.cause !== cause || (lasting && !prior.lasting);
    const fault: StorageFault = {
      cause,
      message,
      since: prior && !changed ? prior.since : Date.now(),
      lasting: lasting || (prior?.lasting ?? false),
      failures: (prior?.failures ?? 0) + 1,
    };
    this.#fault = fault;
    for (const listener of this.#failureListeners) listener(fault, err);
    if (changed) for (const listener of this.#changeListeners) listener(fault);
    this.#schedule();
    return storageUnavailable(fault.cause);
  }

  /** A write went through: the storage works (unless its fault is a lasting one). */
  succeeded(): void {
    if (!this.#fault || this.#fault.lasting) return;
    this.#fault = undefined;
    this.#stop();
    for (const listener of this.#changeListeners) listener(undefined);
  }

  close(): void {
    this.#closed = true;
    this.#stop();
  }

  #schedule(): void {
    if (this.#timer || this.#closed || this.#fault?.lasting) return;
    this.#timer = setInterval(() => void this.#probeOnce(), this.probeIntervalMs);
    this.#timer.unref();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #probeOnce(): Promise<void> {
    if (this.#probing || !this.#fault || this.#closed) return;
    this.#probing = true;
    try {
      await this.probe();
      this.succeeded();
    } catch (err) {
      if (!this.#closed) this.fail(err, 'Storage probe failed');
    } finally {
      this.#probing = false;
    }
    if (this.#fault?.lasting) this.#stop();
  }
}

/** The refusal for callers while the storage fails; `cause` is the storage's code, never its paths. */
export function storageUnavailable(cause: string): AgentwireError {
  return new AgentwireError(
    'storage_unavailable',
    `The log cannot store or read events right now (${cause}); retry later.`,
    { cause, retryAfterMs: STORAGE_RETRY_AFTER_MS },
  );
}

function causeOf(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code.slice(0, 64);
  }
  if (err instanceof Error) {
    // Redis reply errors start with their code: `OOM command not allowed…`, `READONLY You can't…`.
    const word = /^([A-Z][A-Z_]{2,31})\b/.exec(err.message)?.[1];
    if (word) return word;
    return err.name;
  }
  return 'error';
}

/** SQLite's verdict that the file itself is damaged: retrying cannot help. */
function isLasting(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}
