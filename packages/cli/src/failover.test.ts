// Failover with real processes: three `agentwire serve --engine redis` nodes on one Redis, a
// producer publishing through all three, subscribers spread over them. One node is killed with
// SIGKILL, then every node is restarted in turn with SIGTERM, all under load; every subscriber must
// end with every event exactly once, in order. Stalls (time without events while the producer kept
// publishing) are printed per client and per disruption, never asserted.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { connect, type AgentwireError as ProducerError } from '@agentwire/agent';
import { requireService, wipeRedisPrefix } from '@agentwire/server/testing';
import { waitFor } from './testing/index.js';
import { longestGap, watch, type Watcher } from './testing/watchers.js';

const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
const redisUrl = process.env.AGENTWIRE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const skip = await requireService('Redis', redisUrl);
const prefix = `agentwire-test:failover-${randomBytes(6).toString('hex')}:`;
/** Publishing pace: one event every this many ms, whatever happens to the nodes. */
const PUBLISH_EVERY_MS = 5;
const SUBSCRIBERS = 6;

// When the CLI requires auth unless told otherwise, this cluster runs open: it is a test of failover.
const insecure = spawnSync(process.execPath, [bin, 'serve', '--help'], { encoding: 'utf8' }).stdout.includes(
  '--insecure',
)
  ? ['--insecure']
  : [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One `agentwire serve` process, restartable on the same port. */
class GatewayNode {
  child: ChildProcess | undefined;
  output = '';

  constructor(
    readonly name: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Spawns the process and resolves once `/readyz` answers 200. */
  async start(): Promise<number> {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        bin,
        'serve',
        '--engine',
        'redis',
        '--redis-url',
        redisUrl,
        '--redis-prefix',
        prefix,
        '--port',
        String(this.port),
        '--log-level',
        'warn',
        '--dashboard',
        'off',
        ...insecure,
      ],
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`${this.name} exited with ${child.exitCode}: ${this.output}`);
        return fetch(`${this.url}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
      },
      `${this.name} to be ready`,
      // Generous: a loaded CI machine starts a Node process slowly; the bound only turns a hang into a failure.
      60_000,
      25,
    );
    return performance.now() - started;
  }

  /** Sends `signal` and resolves with the exit code and how long the process took to exit. */
  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null)
      return { code: child?.exitCode ?? null, ms: 0 };
    const sent = performance.now();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    const code = await exited;
    return { code, ms: performance.now() - sent };
  }
}

describe('failover across real gateway processes', { skip }, () => {
  const nodes: GatewayNode[] = [];
  const watchers: Watcher[] = [];

  after(async () => {
    await Promise.all(watchers.map((w) => w.client.close()));
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await wipeRedisPrefix(redisUrl, prefix);
  });

  it(
    'loses and repeats nothing through a SIGKILL and a rolling restart, and prints each client’s stall',
    { timeout: 60_000 },
    async () => {
      const ports = await Promise.all([freePort(), freePort(), freePort()]);
      nodes.push(...ports.map((port, i) => new GatewayNode('ABC'[i]!, port)));
      await Promise.all(nodes.map((n) => n.start()));
      const urls = nodes.map((n) => n.url);

      const errors: ProducerError[] = [];
      const producer = connect({
        url: urls,
        name: 'failover-producer',
        onError: (err) => errors.push(err),
        reconnect: { minDelayMs: 50, maxDelayMs: 500 },
      });
      const task = await producer.startTask({
        title: 'failover',
        taskId: `failover-${randomBytes(4).toString('hex')}`,
      });

      // Subscriber i starts on node i % 3 and knows the others, in order after it.
      for (let i = 0; i < SUBSCRIBERS; i++) {
        const first = i % nodes.length;
        const list = [...urls.slice(first), ...urls.slice(0, first)];
        watchers.push(watch(`s${i}@${'ABC'[first]}`, list, task.stream));
      }

      let published = 0;
      // When each event was stored, as the producer learnt it: a gap here is the producer's stall
      // (or this busy test process's), which every client then shares.
      const stored: number[] = [];
      const publisher = setInterval(() => {
        void task.log('info', `n-${published++}`).then(
          () => stored.push(performance.now()),
          () => undefined,
        );
      }, PUBLISH_EVERY_MS);
      try {
        await waitFor(
          () => watchers.every((w) => w.events.length >= 20),
          'every subscriber to be live',
          10_000,
        );

        const disruptions: { label: string; from: number; to: number; exit?: string }[] = [];
        /** Resolves once every subscriber has had an event since it was called: they are all live. */
        const everyoneLive = async (what: string): Promise<void> => {
          const counts = watchers.map((w) => w.events.length);
          await waitFor(() => watchers.every((w, i) => w.events.length > counts[i]!), what, 15_000);
        };

        // Node A, which holds subscribers s0 and s3 (and the producer's first node), dies at once.
        const [a] = nodes as [GatewayNode];
        let from = performance.now();
        await a.stop('SIGKILL');
        // A stays down until the subscribers it held have failed over and every one is live again.
        await everyoneLive('every subscriber to get events with A dead');
        disruptions.push({ label: 'SIGKILL A', from, to: performance.now() });
        await a.start();
        await everyoneLive('every subscriber to get events with A back');

        // Rolling restart: each node in turn is told to stop and comes back on its port.
        for (const node of nodes) {
          from = performance.now();
          const { code, ms } = await node.stop('SIGTERM');
          assert.equal(code, 0, `${node.name} exits 0 on SIGTERM; output: ${node.output}`);
          const startMs = await node.start();
          // The next node stops only once every subscriber is live again.
          await everyoneLive(`every subscriber to get events after ${node.name} restarted`);
          disruptions.push({
            label: `SIGTERM ${node.name}`,
            from,
            to: performance.now(),
            exit: `exited in ${ms.toFixed(0)} ms, ready again in ${startMs.toFixed(0)} ms`,
          });
        }

        clearInterval(publisher);
        await task.complete({ published });
        await producer.flush();
        await waitFor(
          () => watchers.every((w) => w.events.some((e) => e.type === 'task:complete')),
          'every subscriber to see the end',
          15_000,
        );

        assert.deepEqual(errors, [], 'the producer never gave up on an event');
        const head = task.stream;
        const headRes = await fetch(`${urls[0]}/v1/streams/${encodeURIComponent(head)}`);
        const { head: last } = (await headRes.json()) as { head: number };
        const wanted = Array.from({ length: published }, (_, i) => `n-${i}`);
        for (const w of watchers) {
          assert.equal(w.resets, 0, `${w.name}: resumed every time, never reset`);
          assert.deepEqual(
            w.events.map((e) => e.seq),
            Array.from({ length: last }, (_, i) => i + 1),
            `${w.name}: every seq exactly once, in order`,
          );
          const logs = w.events
            .filter((e) => e.type === 'log:entry')
            .map((e) => (e.data as { message: string }).message);
          assert.deepEqual(logs, wanted, `${w.name}: every published event exactly once, in publish order`);
        }

        // The figures: per disruption, each client's longest time without an event.
        console.log(`# ${published} events published every ${PUBLISH_EVERY_MS} ms; stalls in ms per client:`);
        console.log(
          `#   ${'disruption'.padEnd(12)} ${watchers.map((w) => w.name.padStart(7)).join(' ')}    max  producer`,
        );
        for (const d of disruptions) {
          const stalls = watchers.map((w) => longestGap(w.arrivals, d.from, d.to));
          const own = longestGap(stored, d.from, d.to);
          console.log(
            `#   ${d.label.padEnd(12)} ${stalls.map((s) => s.toFixed(0).padStart(7)).join(' ')} ${Math.max(
              ...stalls,
            )
              .toFixed(0)
              .padStart(6)} ${own.toFixed(0).padStart(9)}${d.exit ? `   (${d.exit})` : ''}`,
          );
        }
      } finally {
        clearInterval(publisher);
        await producer.close().catch(() => undefined);
      }
    },
  );
});
