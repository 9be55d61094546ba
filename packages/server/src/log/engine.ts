import type {
  AnyEnvelope,
  HistoryPage,
  PublishResult,
  StreamHead as WireStreamHead,
  TraceContext,
} from '@agentwire/protocol';
import type { StorageHealth } from './storage-health.js';

/** One event as the engine receives it: ingest has validated it and assigned its id and time. */
export interface AppendInput {
  id: string;
  type: string;
  data: unknown;
  time: number;
  /** The producer's trace context, stored and returned with the event. */
  trace?: TraceContext;
  /**
   * `data` already encoded by ingest. When present, `data` belongs to the log (a JSON value nobody
   * else holds, equal to `JSON.parse(json)`), so the engine neither encodes it again nor copies it
   * for the appended envelopes. Absent, the engine encodes `data` and hands out a copy.
   */
  json?: string;
}

/** One event's outcome, as the publish answer carries it: `duplicate` when its id was already stored (`seq` is then the original one). */
export type AppendResult = PublishResult['results'][number];

/** The publish answer, plus the newly stored events (duplicates excluded), in seq order. */
export interface AppendBatchResult extends PublishResult {
  appended: AnyEnvelope[];
}

/** Where a stream stands: also the answer of `GET /v1/streams/{stream}`. */
export type StreamHead = WireStreamHead;

/** Events with seq > afterSeq, oldest first, at most `limit`: also a page of the history API. */
export type ReadResult = HistoryPage;

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

/**
 * Called once per append call that stored at least one event (never for duplicates alone), after
 * the events are durable and before that append's promise resolves, in seq order per stream.
 * The array is shared by every listener: do not mutate it. A listener may append; that commit is
 * delivered after the ones already queued. A throwing listener is reported (a process warning by
 * default), never rethrown into the append.
 */
export type AppendListener = (stream: string, events: AnyEnvelope[]) => void;

/**
 * Which streams a listener needs every event of, for engines shared by several nodes (Redis): a
 * commit of another node too large to travel with its announcement is read back from the log only
 * on a node where some listener wants its stream; on the others, each listener with an interest
 * hears `skipped` instead, in order with the stream's deliveries. A listener registered without
 * one wants every stream. Single-node engines hand every commit to every listener and ignore it.
 */
export interface AppendInterest {
  wants(stream: string): boolean;
  /** The stream moved through `throughSeq` unseen here: forget what was kept of it. */
  skipped(stream: string, throughSeq: number): void;
}

/**
 * The durable log. Every engine (memory, SQLite, Redis) implements this and passes the shared
 * conformance suite in `testing/engine-suite.ts`. Guarantees:
 * - per-stream seq starts at 1 and has no gaps; appends to one stream are applied in call order;
 * - `append` resolves, and listeners hear of the events, only once they are durable;
 * - the same event id appended twice to a stream is stored once and reports the original seq
 *   (within one batch too); the dedupe window is the retained history, so an id trimmed away
 *   by retention can be stored again;
 * - a stream's epoch changes only when its history is lost (a fresh memory engine, a new database),
 *   never by trimming; a stream that was never written reports the epoch its first event will get;
 * - data is stored as JSON: what comes back is the JSON round-trip of what went in;
 * - after `close()`, every method rejects with `AgentwireError('unavailable')`;
 * - a storage failure (a full disk, a lost connection) rejects with `storage_unavailable` and is
 *   reported to `health`, which readiness follows.
 */
export interface LogEngine {
  readonly kind: string;
  /** Engines whose storage can fail (all but memory) report its failures and recovery here. */
  readonly health?: StorageHealth;
  /**
   * Rejects with `invalid_payload` when some data has no JSON form (nothing of that call is
   * stored), with `storage_unavailable` when storage fails (nothing of the failed commit is stored
   * and no seq is consumed).
   */
  append(stream: string, inputs: AppendInput[]): Promise<AppendBatchResult>;
  /**
   * Events with seq > afterSeq. When afterSeq < first - 1 the events start at `first`: the caller
   * sees the gap by comparing, and a missing stream reads as empty.
   */
  read(stream: string, afterSeq: number, limit: number): Promise<ReadResult>;
  /** Cheap, and creates nothing: a missing stream is `{ head: 0, first: 1 }` in the current epoch. */
  head(stream: string): Promise<StreamHead>;
  /** Streams whose name starts with `prefix`, most recently updated first. */
  listStreams(options: { prefix?: string; limit: number }): Promise<StreamInfo[]>;
  onAppend(listener: AppendListener, interest?: AppendInterest): () => void;
  /**
   * One plan per stream with something to drop: the larger of the count cut (head - maxEvents) and
   * the age cut. Only a prefix can go, so the age cut stops before the first event whose `time` is
   * within maxAgeMs of `now`, even if older events follow it.
   */
  retentionPlan(policy: RetentionPolicy, now: number): Promise<TrimPlan[]>;
  /** Drops events with seq <= throughSeq (clamped to the head), moves `first`, returns how many went. */
  trim(stream: string, throughSeq: number): Promise<number>;
  putCheckpoint(stream: string, checkpoint: Checkpoint): Promise<void>;
  getCheckpoint(stream: string): Promise<Checkpoint | undefined>;
  /** Commits appends already issued (they resolve), then releases the storage. Idempotent. */
  close(): Promise<void>;
}
