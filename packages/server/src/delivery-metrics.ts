import { statSync } from 'node:fs';
import type { AppendInterest, LogEngine } from './log/engine.js';

/** Latency samples kept; older ones fall out, so the figures describe the last few seconds. */
const SAMPLES = 2_048;
/** Samples what this node delivers; a commit it did not need to read is not worth reading for it. */
const SAMPLE_ONLY: AppendInterest = { wants: () => false, skipped: () => {} };
/** Samples older than this are ignored, so an idle gateway does not keep reporting old latency. */
const WINDOW_MS = 10_000;

/**
 * Publish-to-deliver latency and the log's size, for `/v1/stats` and the dashboard's system view.
 * An event's `time` is stamped by ingest when it arrives; this listens to the log after the hub
 * (registered later, so called later), so `now - time` spans validation, the durable append and the
 * fan-out to every subscriber's socket buffer.
 */
export class DeliveryMetrics {
  readonly #times = new Float64Array(SAMPLES);
  readonly #latencies = new Float64Array(SAMPLES);
  #next = 0;
  #count = 0;
  readonly #unlisten: () => void;

  constructor(
    engine: LogEngine,
    /** The SQLite file, whose size (with its WAL) is the log's size on disk. */
    private readonly logPath?: string,
  ) {
    this.#unlisten = engine.onAppend((_stream, events) => {
      const now = Date.now();
      // One sample per batch is enough to chart, and keeps a burst of thousands cheap.
      const first = events[0];
      if (!first) return;
      this.#times[this.#next] = now;
      this.#latencies[this.#next] = Math.max(0, now - first.time);
      this.#next = (this.#next + 1) % SAMPLES;
      this.#count = Math.min(SAMPLES, this.#count + 1);
    }, SAMPLE_ONLY);
  }

  stats(): { latencyMs?: { p50: number; p99: number; max: number; samples: number }; logBytes?: number } {
    const out: ReturnType<DeliveryMetrics['stats']> = {};
    const since = Date.now() - WINDOW_MS;
    const recent: number[] = [];
    for (let i = 0; i < this.#count; i++) if (this.#times[i]! >= since) recent.push(this.#latencies[i]!);
    if (recent.length > 0) {
      recent.sort((a, b) => a - b);
      const at = (q: number) => recent[Math.min(recent.length - 1, Math.floor(q * recent.length))]!;
      out.latencyMs = {
        p50: at(0.5),
        p99: at(0.99),
        max: recent[recent.length - 1]!,
        samples: recent.length,
      };
    }
    if (this.logPath) {
      const size = (path: string) => {
        try {
          return statSync(path).size;
        } catch {
          return 0;
        }
      };
      out.logBytes = size(this.logPath) + size(`${this.logPath}-wal`);
    }
    return out;
  }

  close(): void {
    this.#unlisten();
  }
}
