import type { AnyEnvelope } from '@agentwire/protocol';
import {
  appendedEnvelope,
  closedError,
  encodeData,
  decodeTrace,
  encodeInputs,
  encodeTrace,
  makeEnvelope,
  newEpoch,
  readBounds,
} from './codec.js';
import type {
  AppendBatchResult,
  AppendInput,
  AppendListener,
  AppendResult,
  Checkpoint,
  LogEngine,
  ReadResult,
  RetentionPolicy,
  StreamHead,
  StreamInfo,
  TrimPlan,
} from './engine.js';
import { AppendNotifier } from './notifier.js';

interface StoredEvent {
  seq: number;
  id: string;
  type: string;
  time: number;
  json: string;
  trace?: string;
}

interface MemoryStream {
  name: string;
  head: number;
  first: number;
  /** Retained events; events[i].seq === first + i. */
  events: StoredEvent[];
  /** id -> seq of retained events: like SQLite, the dedupe window is what is still retained. */
  ids: Map<string, number>;
  createdAt: number;
  updatedAt: number;
}

export interface MemoryEngineOptions {
  /** Where errors thrown by append listeners go; defaults to a process warning. */
  onListenerError?: (err: unknown) => void;
}

/**
 * The log kept in process memory: for tests, demos and single-process development. The whole
 * engine is one epoch, so a restarted process tells every resuming client its history is gone.
 * Data is kept as JSON text so it behaves exactly like the durable engines (no shared references).
 */
export class MemoryEngine implements LogEngine {
  readonly kind = 'memory';
  readonly epoch = newEpoch();
  private readonly streams = new Map<string, MemoryStream>();
  private readonly checkpoints = new Map<string, { seq: number; json: string }>();
  private readonly notifier: AppendNotifier;
  private closed = false;

  constructor(options: MemoryEngineOptions = {}) {
    this.notifier = new AppendNotifier(options.onListenerError);
  }

  append(stream: string, inputs: AppendInput[]): Promise<AppendBatchResult> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    let encoded: string[];
    try {
      encoded = encodeInputs(inputs);
    } catch (err) {
      return Promise.reject(err);
    }
    const now = Date.now();
    let state = this.streams.get(stream);
    const results: AppendResult[] = [];
    const appended: AnyEnvelope[] = [];
    inputs.forEach((input, i) => {
      const original = state?.ids.get(input.id);
      if (original !== undefined) {
        results.push({ id: input.id, seq: original, duplicate: true });
        return;
      }
      if (!state) {
        state = {
          name: stream,
          head: 0,
          first: 1,
          events: [],
          ids: new Map(),
          createdAt: now,
          updatedAt: now,
        };
        this.streams.set(stream, state);
      }
      const json = encoded[i] ?? 'null';
      const seq = ++state.head;
      const stored: StoredEvent = { seq, id: input.id, type: input.type, time: input.time, json };
      const trace = encodeTrace(input.trace);
      if (trace !== undefined) stored.trace = trace;
      state.events.push(stored);
      state.ids.set(input.id, seq);
      state.updatedAt = now;
      results.push({ id: input.id, seq, duplicate: false });
      appended.push(appendedEnvelope(stream, this.epoch, seq, input, json));
    });
    const result: AppendBatchResult = { stream, epoch: this.epoch, results, appended };
    return new Promise((resolve) => this.notifier.publish(stream, appended, () => resolve(result)));
  }

  read(stream: string, afterSeq: number, limit: number): Promise<ReadResult> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    const head = this.headOf(stream);
    const state = this.streams.get(stream);
    const bounds = readBounds(afterSeq, limit);
    const start = Math.max(0, bounds.after + 1 - head.first);
    const events = (state?.events ?? [])
      .slice(start, start + bounds.limit)
      .map((e) =>
        makeEnvelope(stream, this.epoch, e.seq, e.id, e.type, e.time, e.json, decodeTrace(e.trace)),
      );
    return Promise.resolve({ ...head, events });
  }

  head(stream: string): Promise<StreamHead> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    return Promise.resolve(this.headOf(stream));
  }

  listStreams(options: { prefix?: string; limit: number }): Promise<StreamInfo[]> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    const prefix = options.prefix ?? '';
    const found: MemoryStream[] = [];
    for (const state of this.streams.values()) if (state.name.startsWith(prefix)) found.push(state);
    // Same order as the SQLite index walk: newest first, ties by name descending.
    found.sort((a, b) => b.updatedAt - a.updatedAt || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
    return Promise.resolve(
      found.slice(0, readBounds(0, options.limit).limit).map((s) => ({
        stream: s.name,
        epoch: this.epoch,
        head: s.head,
        first: s.first,
        createdAt: s.createdAt,
        updatedAt: s.updatedAt,
      })),
    );
  }

  onAppend(listener: AppendListener): () => void {
    return this.notifier.add(listener);
  }

  retentionPlan(policy: RetentionPolicy, now: number): Promise<TrimPlan[]> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    const plans: TrimPlan[] = [];
    const maxEvents = policy.maxEvents ?? 0;
    const maxAgeMs = policy.maxAgeMs ?? 0;
    for (const state of this.streams.values()) {
      if (state.events.length === 0) continue;
      let through = maxEvents > 0 ? state.head - maxEvents : 0;
      if (maxAgeMs > 0) {
        // Only a prefix can be dropped, so stop at the first event young enough to keep.
        const cutoff = now - maxAgeMs;
        const young = state.events.findIndex((e) => e.time >= cutoff);
        through = Math.max(through, young === -1 ? state.head : state.first + young - 1);
      }
      if (through >= state.first) plans.push({ stream: state.name, throughSeq: through });
    }
    return Promise.resolve(plans);
  }

  trim(stream: string, throughSeq: number): Promise<number> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    const state = this.streams.get(stream);
    if (!state) return Promise.resolve(0);
    const through = Math.min(Math.floor(throughSeq), state.head);
    // Written so that NaN trims nothing instead of poisoning `first`.
    if (!(through >= state.first)) return Promise.resolve(0);
    const count = through - state.first + 1;
    for (const e of state.events.splice(0, count)) state.ids.delete(e.id);
    state.first += count;
    return Promise.resolve(count);
  }

  putCheckpoint(stream: string, checkpoint: Checkpoint): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    try {
      this.checkpoints.set(stream, { seq: checkpoint.seq, json: encodeData(checkpoint.state) });
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }

  getCheckpoint(stream: string): Promise<Checkpoint | undefined> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    const stored = this.checkpoints.get(stream);
    return Promise.resolve(stored && { seq: stored.seq, state: JSON.parse(stored.json) as unknown });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private headOf(stream: string): StreamHead {
    const state = this.streams.get(stream);
    return { stream, epoch: this.epoch, head: state?.head ?? 0, first: state?.first ?? 1 };
  }
}
