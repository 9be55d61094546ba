import type { AnyEnvelope } from '@agentwire/protocol';

/** One event as the engine receives it: ingest has validated it and assigned its id and time. */
export interface AppendInput {
  id: string;
  type: string;
  data: unknown;
  time: number;
}

export interface AppendResult {
  id: string;
  seq: number;
  /** True when an event with this id was already in the stream; `seq` is then the original one. */
  duplicate: boolean;
}

export interface AppendBatchResult {
  stream: string;
  epoch: string;
  results: AppendResult[];
  /** The newly stored events (duplicates excluded), in seq order. */
  appended: AnyEnvelope[];
}

export interface StreamHead {
  stream: string;
  epoch: string;
  /** Seq of the newest event; 0 when the stream is empty. */
  head: number;
  /** Seq of the oldest retained event; head + 1 when none is retained. */
  first: number;
}

export interface ReadResult extends StreamHead {
  /** Events with seq > afterSeq, oldest first, at most `limit`. */
  events: AnyEnvelope[];
}

export interface StreamInfo extends StreamHead {
  createdAt: number;
  updatedAt: number;
}

export interface RetentionPolicy {
  /** Keep at most this many events per stream (0 or undefined: unlimited). */
  maxEvents?: number;
  /** Drop events older than this many milliseconds (0 or undefined: forever). */
  maxAgeMs?: number;
}

export interface TrimPlan {
  stream: string;
  /** Every event with seq <= throughSeq may be dropped. */
  throughSeq: number;
}

export interface Checkpoint {
  seq: number;
  state: unknown;
}

/** Called after events are durable, in seq order per stream. */
export type AppendListener = (stream: string, events: AnyEnvelope[]) => void;

/**
 * The durable log. Every engine (memory, SQLite, Redis) implements this and passes the shared
 * conformance suite in `engine-suite.ts`. Guarantees:
 * - per-stream seq starts at 1 and has no gaps; appends to one stream are applied in call order;
 * - `append` resolves, and listeners hear of the events, only once they are durable;
 * - the same event id appended twice to a stream is stored once and reports the original seq;
 * - a stream's epoch changes only when its history is lost (a fresh memory engine, a new database).
 */
export interface LogEngine {
  readonly kind: string;
  append(stream: string, inputs: AppendInput[]): Promise<AppendBatchResult>;
  read(stream: string, afterSeq: number, limit: number): Promise<ReadResult>;
  head(stream: string): Promise<StreamHead>;
  /** Streams whose name starts with `prefix`, most recently updated first. */
  listStreams(options: { prefix?: string; limit: number }): Promise<StreamInfo[]>;
  onAppend(listener: AppendListener): () => void;
  retentionPlan(policy: RetentionPolicy, now: number): Promise<TrimPlan[]>;
  trim(stream: string, throughSeq: number): Promise<number>;
  putCheckpoint(stream: string, checkpoint: Checkpoint): Promise<void>;
  getCheckpoint(stream: string): Promise<Checkpoint | undefined>;
  close(): Promise<void>;
}
