import { AgentwireError } from '@agentwire/protocol';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppendInterest, LogEngine } from '../log/engine.js';
import { FastHistogram, type HistogramSeries } from './fast-histogram.js';
import { OpenQuestions } from './open-questions.js';

/** How events reached ingest: a label, so bounded. */
export type IngestPath = 'http' | 'amqp' | 'in_process';

/** Commands watchers send, by type; anything else is counted as `other`. */
const COMMAND_TYPES = new Set(['cancel', 'answer', 'message', 'start']);

/** What the gateway reports at scrape time: gauges read from the parts that own the figures. */
export interface MetricsSources {
  connections(): Record<string, number>;
  subscriptions(): number;
  streams(): number;
  deliveredEvents(): number;
  producers(): { connected: number; workers: number; queuedCommands: number };
  refusals(): ReadonlyMap<string, number>;
  slowConsumerEvictions(): number;
  /** Events merged into another on their way to a subscriber (coalesced token deltas). */
  coalescedEvents?(): number;
  /** Bytes of events held back for subscribers that are behind. */
  heldBytes?(): number;
  /** 1 while a dependency the node needs is reachable, 0 while not; absent when not configured. */
  dependencies(): Record<string, boolean>;
  /** The log engine's kind, and its size on disk where the engine can tell. */
  log(): { engine: string; bytes?: number };
}

// Latency buckets in seconds, from a fast in-memory append to a stalled disk.
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The gateway's Prometheus metrics, in a registry of its own (several gateways in one process
 * never mix their figures). Counters and histograms are fed as things happen; gauges and the
 * counters other parts already keep are read when Prometheus scrapes. No label carries a task id,
 * stream or user: every label has a small, fixed set of values.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  /** Events stored and deduplicated by path: counted here per batch, read by their counters at scrape. */
  private readonly ingestedBy = new Map<IngestPath, { stored: number; duplicates: number }>();
  private readonly ingestErrors: Counter<'path' | 'code'>;
  private readonly ingestSeconds: FastHistogram;
  private readonly deliverSeconds: HistogramSeries;
  private readonly commands: Counter<'type' | 'outcome'>;
  private readonly commandSeconds: Histogram<'type'>;
  private readonly unlisten: () => void;
  private readonly openQuestions = new OpenQuestions();

  constructor(engine: LogEngine, sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'agentwire_' });
    const ingestedBy = this.ingestedBy;
    new Counter({
      name: 'agentwire_events_ingested_total',
      help: 'Events stored by ingest, by the path they came in on (duplicates not included).',
      labelNames: ['path'],
      registers,
      collect() {
        this.reset();
        for (const [path, n] of ingestedBy) if (n.stored > 0) this.inc({ path }, n.stored);
      },
    });
    new Counter({
      name: 'agentwire_events_deduplicated_total',
      help: 'Events whose id was already stored: acknowledged, not stored again.',
      labelNames: ['path'],
      registers,
      collect() {
        this.reset();
        for (const [path, n] of ingestedBy) if (n.duplicates > 0) this.inc({ path }, n.duplicates);
      },
    });
    this.ingestErrors = new Counter({
      name: 'agentwire_ingest_errors_total',
      help: 'Publish batches refused or failed, by path and error code (docs/errors.md).',
      labelNames: ['path', 'code'],
      registers,
    });
    // Observed per batch and per event: the cheap kind (see FastHistogram).
    this.ingestSeconds = new FastHistogram(
      'agentwire_ingest_duration_seconds',
      'From a batch reaching ingest to its durable append: validation and the log write.',
      LATENCY_BUCKETS,
      this.registry,
    );
    this.deliverSeconds = new FastHistogram(
      'agentwire_publish_to_deliver_seconds',
      "From ingest stamping an event to the hub handing it to every subscriber's socket.",
      LATENCY_BUCKETS,
      this.registry,
    ).labels();
    this.commands = new Counter({
      name: 'agentwire_commands_total',
      help: "Watchers' commands by type and outcome (ok or the error code).",
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.commandSeconds = new Histogram({
      name: 'agentwire_command_duration_seconds',
      help: 'From a command reaching the gateway to its acknowledgement; for cancel, until the producer confirmed its work stopped.',
      labelNames: ['type'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'agentwire_connections',
      help: 'Open subscriber connections by transport (pending long-polls count as connections).',
      labelNames: ['transport'],
      registers,
      collect() {
        for (const [transport, n] of Object.entries(sources.connections())) this.set({ transport }, n);
      },
    });
    new Gauge({
      name: 'agentwire_subscriptions',
      help: 'Stream subscriptions across every connection.',
      registers,
      collect() {
        this.set(sources.subscriptions());
      },
    });
    new Gauge({
      name: 'agentwire_streams_watched',
      help: 'Streams with at least one subscriber.',
      registers,
      collect() {
        this.set(sources.streams());
      },
    });
    let delivered = 0;
    new Counter({
      name: 'agentwire_events_delivered_total',
      help: 'Events handed to subscribers (one per subscriber per event).',
      registers,
      collect() {
        const now = sources.deliveredEvents();
        if (now > delivered) this.inc(now - delivered);
        delivered = now;
      },
    });
    new Gauge({
      name: 'agentwire_producers_connected',
      help: 'Producers attached to this node (in-process, /v1/producer, AMQP).',
      registers,
      collect() {
        this.set(sources.producers().connected);
      },
    });
    new Gauge({
      name: 'agentwire_workers_connected',
      help: 'Connected producers that take task starts (workers).',
      registers,
      collect() {
        this.set(sources.producers().workers);
      },
    });
    new Gauge({
      name: 'agentwire_commands_queued',
      help: 'Commands waiting for a producer to acknowledge them.',
      registers,
      collect() {
        this.set(sources.producers().queuedCommands);
      },
    });
    const open = this.openQuestions;
    new Gauge({
      name: 'agentwire_questions_open',
      help: "Agents' questions waiting for an answer, in tasks this node has seen.",
      registers,
      collect() {
        this.set(open.count);
      },
    });
    const refusalsSeen = new Map<string, number>();
    new Counter({
      name: 'agentwire_limit_refusals_total',
      help: 'Requests, messages and connections refused by a limit, by error code (rate_limited, too_many_connections, …).',
      labelNames: ['code'],
      registers,
      collect() {
        for (const [code, n] of sources.refusals()) {
          const before = refusalsSeen.get(code) ?? 0;
          if (n > before) this.inc({ code }, n - before);
          refusalsSeen.set(code, n);
        }
      },
    });
    let evicted = 0;
    new Counter({
      name: 'agentwire_slow_consumer_evictions_total',
      help: 'Subscribers disconnected because they fell too far behind (slow_consumer).',
      registers,
      collect() {
        const now = sources.slowConsumerEvictions();
        if (now > evicted) this.inc(now - evicted);
        evicted = now;
      },
    });
    let coalesced = 0;
    new Counter({
      name: 'agentwire_coalesced_events_total',
      help: 'Token deltas merged into another on their way to a subscriber that was behind or catching up.',
      registers,
      collect() {
        const now = sources.coalescedEvents?.() ?? 0;
        if (now > coalesced) this.inc(now - coalesced);
        coalesced = now;
      },
    });
    new Gauge({
      name: 'agentwire_held_bytes',
      help: 'Bytes of events held in the hub for subscribers whose connection is behind.',
      registers,
      collect() {
        this.set(sources.heldBytes?.() ?? 0);
      },
    });
    new Gauge({
      name: 'agentwire_dependency_up',
      help: 'Whether a dependency this node needs is reachable (1) or not (0): log, redis, rabbitmq.',
      labelNames: ['dependency'],
      registers,
      collect() {
        for (const [dependency, up] of Object.entries(sources.dependencies()))
          this.set({ dependency }, up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'agentwire_log_info',
      help: 'Always 1; the engine label names the log engine (memory, sqlite, redis).',
      labelNames: ['engine'],
      registers,
      collect() {
        this.reset();
        this.set({ engine: sources.log().engine }, 1);
      },
    });
    new Gauge({
      name: 'agentwire_log_size_bytes',
      help: 'Bytes the log takes on disk, with its write-ahead log (SQLite only).',
      registers,
      collect() {
        const bytes = sources.log().bytes;
        if (bytes !== undefined) this.set(bytes);
      },
    });
    // After the hub's listener (registered earlier), so the figure includes the fan-out.
    const interest: AppendInterest = {
      wants: () => false,
      skipped: (stream) => this.openQuestions.forget(stream),
    };
    this.unlisten = engine.onAppend((stream, events) => {
      const now = Date.now();
      for (const e of events) {
        this.deliverSeconds.observe(Math.max(0, now - e.time) / 1000);
        this.openQuestions.apply(stream, e.type, e.data);
      }
    }, interest);
  }

  /** Wraps a publish function so every batch through it is counted and timed under `path`. */
  countIngest<A extends unknown[], R extends { results: readonly { duplicate?: boolean }[] }>(
    path: IngestPath,
    publish: (...args: A) => Promise<R>,
  ): (...args: A) => Promise<R> {
    const seconds = this.ingestSeconds.labels({ path });
    let counts = this.ingestedBy.get(path);
    if (!counts) this.ingestedBy.set(path, (counts = { stored: 0, duplicates: 0 }));
    const counted = counts;
    return async (...args: A) => {
      const start = performance.now();
      try {
        const result = await publish(...args);
        seconds.observe((performance.now() - start) / 1000);
        let duplicates = 0;
        for (const r of result.results) if (r.duplicate) duplicates++;
        counted.stored += result.results.length - duplicates;
        counted.duplicates += duplicates;
        return result;
      } catch (err) {
        this.ingestErrors.inc({ path, code: codeOf(err) });
        throw err;
      }
    };
  }

  /** Counts and times one command until it is acknowledged or refused. */
  async countCommand<R>(type: unknown, dispatch: () => Promise<R>): Promise<R> {
    const label = typeof type === 'string' && COMMAND_TYPES.has(type) ? type : 'other';
    const end = this.commandSeconds.startTimer({ type: label });
    try {
      const result = await dispatch();
      end();
      this.commands.inc({ type: label, outcome: 'ok' });
      return result;
    } catch (err) {
      this.commands.inc({ type: label, outcome: codeOf(err) });
      throw err;
    }
  }

  /** The text Prometheus scrapes. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.unlisten();
    this.registry.clear();
  }
}

function codeOf(err: unknown): string {
  return err instanceof AgentwireError ? err.code : 'internal';
}
