import { connect } from '@agentwire/agent';
import { createGateway, type EngineConfig } from '@agentwire/server';
import { Histogram } from '../hist.js';
import { serveController, type ServerCommand } from './child.js';
import { benchInput, nowNs, runOpenLoop, streamNames, tokenText } from './driver.js';

// The gateway under test, with the product's defaults (limits, heartbeats, permessage-deflate off).
const engine: EngineConfig =
  process.env.BENCH_ENGINE === 'sqlite'
    ? { kind: 'sqlite', path: process.env.BENCH_DB ?? 'bench.db' }
    : process.env.BENCH_ENGINE === 'redis'
      ? {
          kind: 'redis',
          url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
          prefix: process.env.BENCH_REDIS_PREFIX ?? 'agentwire-bench:',
          ...(process.env.BENCH_ANNOUNCE_MAX_BYTES !== undefined && {
            announceMaxBytes: Number(process.env.BENCH_ANNOUNCE_MAX_BYTES),
          }),
        }
      : { kind: 'memory' };
const gateway = await createGateway({ port: 0, engine, logLevel: 'silent' });
let publishErrors = 0;

type IngestCommand = Extract<ServerCommand, { cmd: 'ingest' }>;

/**
 * Durable ingest through the in-process producer SDK: one event per `publish` call, as an agent
 * emitting tool and token events would; the SDK batches per stream while a commit is in flight.
 * Acknowledgement latency runs from the event's due time to the resolved promise.
 */
async function ingest(command: IngestCommand): Promise<unknown> {
  const producer = connect({ publisher: gateway, maxBatchSize: 1000 });
  const streams = streamNames(command.streams);
  const hist = new Histogram();
  let acked = 0;
  let failed = 0;
  const start = nowNs();
  const publishOne = (stream: string, stamp: number): Promise<void> =>
    producer.publish(stream, [benchInput(stamp)]).then(
      () => {
        acked++;
        hist.record((nowNs() - stamp) / 1000);
      },
      () => void failed++,
    );
  if (command.mode === 'rate') {
    await runOpenLoop(streams, command.rate, command.durationMs, (stream, stamps) => {
      for (const stamp of stamps) void publishOne(stream, stamp);
    });
    await producer.flush();
  } else {
    // Closed loop: `window` events in flight; each acknowledgement sends the next.
    const end = start + command.durationMs * 1e6;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (nowNs() < end) await publishOne(streams[next++ % streams.length]!, nowNs());
    };
    await Promise.all(Array.from({ length: command.window }, lane));
  }
  const elapsedMs = (nowNs() - start) / 1e6;
  await producer.close();
  return { acked, failed, elapsedMs, hist: hist.counts };
}

// Token streams go through the agent SDK as an agent's would: one call per token, the SDK batching
// per stream while a commit is in flight. The first token of a task opens the task and its answer.
const tokenProducer = connect({ publisher: gateway, maxBatchSize: 1000 });
const tokenCounts = new Map<string, number>();

function tokens(stream: string, stamps: number[]): void {
  let next = tokenCounts.get(stream);
  if (next === undefined) {
    next = 0;
    tokenProducer
      .publish(stream, [
        { type: 'task:start', data: { taskId: stream.slice(5), title: 'bench answer' } },
        { type: 'message:start', data: { messageId: 'answer', role: 'assistant' } },
      ])
      .catch(() => void publishErrors++);
  }
  for (const stamp of stamps) {
    tokenProducer
      .publish(stream, [
        { type: 'message:delta', data: { messageId: 'answer', delta: tokenText(next++, stamp) } },
      ])
      .catch(() => void publishErrors++);
  }
  tokenCounts.set(stream, next);
}

serveController(gateway.port, {
  // The gateway's default per-batch limit.
  maxGroup: 1000,
  publish(stream, stamps) {
    gateway.publish(stream, stamps.map(benchInput)).catch(() => void publishErrors++);
  },
  async burst(streams, perStream) {
    const stamp = nowNs();
    await Promise.all(
      streams.map(async (stream) => {
        for (let sent = 0; sent < perStream; sent += 10) {
          const n = Math.min(10, perStream - sent);
          await gateway.publish(
            stream,
            Array.from({ length: n }, () => benchInput(stamp)),
          );
        }
      }),
    );
  },
  connections: () => Number(gateway.stats().connections),
  tokens,
  heldBytes: () => gateway.hub.maxSubscriberBytes,
  ingest,
  close: () => gateway.close(),
});
