// Storage failing under a running gateway, for real: a full disk (a tmpfs of 2 MiB), a database
// damaged mid-file, a Redis that is stopped and started again. Each must be refused with the
// retryable `storage_unavailable`, logged with its cause, reflected by /readyz, and recovered from.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { createGateway, type Gateway } from './gateway.js';
import { SqliteEngine } from './log/sqlite.js';
import type { StorageFault, StorageHealth } from './log/storage-health.js';
import { waitUntil } from './testing/wait.js';

const root = mkdtempSync(join(tmpdir(), 'agentwire-storage-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A real pino logger whose JSON lines the test can read. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const line = (i: number, bytes = 0) => ({
  type: 'log:entry',
  data: { level: 'info', message: `line ${i} ${'x'.repeat(bytes)}` },
});

async function post(gw: Gateway, path: string, body: unknown) {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
}

async function readyz(gw: Gateway) {
  const res = await fetch(`${gw.url}/readyz`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field
  return { status: res.status, body: (await res.json()) as any };
}

/** Asks /readyz until `accept` takes its answer; the bound only turns a hang into a failure. */
async function readyzWhen(
  gw: Gateway,
  accept: (answer: Awaited<ReturnType<typeof readyz>>) => boolean,
  timeoutMs = 20_000,
): Promise<Awaited<ReturnType<typeof readyz>>> {
  let answer = await readyz(gw);
  await waitUntil(
    async () => accept((answer = await readyz(gw))),
    () => `/readyz to change; it kept answering ${JSON.stringify(answer.body)}`,
    timeoutMs,
    50,
  );
  return answer;
}

/** Resolves at the health's next change that `accept` takes (a fault, or recovery with undefined). */
function nextChange(
  health: StorageHealth,
  accept: (fault: StorageFault | undefined) => boolean,
  timeoutMs = 20_000,
): Promise<StorageFault | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('the storage health did not change in time'));
    }, timeoutMs);
    const off = health.onChange((fault) => {
      if (!accept(fault)) return;
      clearTimeout(timer);
      off();
      resolve(fault);
    });
  });
}

/** A tmpfs of `size` at a fresh folder, or undefined when this process may not mount (not root). */
function mountTmpfs(size: string): string | undefined {
  const dir = mkdtempSync(join(root, 'tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

/** Writes zeros into `path` until the file system refuses with ENOSPC. */
function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) {
      try {
        writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
          // Then byte by byte, so not even a page is left.
          for (;;) writeSync(fd, chunk.subarray(0, 512));
        }
        throw err;
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe('storage failures are refused, logged, reflected by /readyz, and recovered from', () => {
  it('a full disk', { timeout: 60_000 }, async (t: TestContext) => {
    const dir = mountTmpfs('2m');
    if (dir === undefined) {
      t.skip('mounting a tmpfs needs root (CAP_SYS_ADMIN); the disk-full case runs where it can');
      return;
    }
    const { logger, lines } = capturedLogger();
    const gw = await createGateway({
      port: 0,
      logger,
      engine: { kind: 'sqlite', path: join(dir, 'log.db') },
    });
    try {
      assert.equal((await post(gw, '/v1/streams/task:full/events', { events: [line(0)] })).status, 200);

      fillUp(join(dir, 'filler'));
      const big = Array.from({ length: 100 }, (_, i) => line(i + 1, 3000));
      const refused = await post(gw, '/v1/streams/task:full/events', { events: big });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'storage_unavailable');
      assert.equal(refused.body.error.details.cause, 'SQLITE_FULL');
      assert.ok(Number(refused.retryAfter) >= 1, `Retry-After: ${refused.retryAfter}`);
      assert.doesNotMatch(JSON.stringify(refused.body), /tmpfs|log\.db/, 'no paths to clients');
      const health = gw.engine.health!;
      assert.equal(health.fault?.cause, 'SQLITE_FULL');

      // Every ingest path answers the same: a task created over HTTP, and in-process publishing.
      const task = await post(gw, '/v1/tasks', { title: 'x'.repeat(400), taskId: 'full-2' });
      if (task.status !== 201) {
        assert.equal(task.status, 503);
        assert.equal(task.body.error.code, 'storage_unavailable');
        assert.ok(task.retryAfter);
      }
      await assert.rejects(gw.publish('task:full', big), { code: 'storage_unavailable' });

      const ready = await readyz(gw);
      assert.equal(ready.status, 503);
      assert.equal(ready.body.status, 'not_ready');
      assert.equal(ready.body.checks.log.ok, false);
      assert.equal(ready.body.checks.log.cause, 'SQLITE_FULL');
      assert.equal(ready.body.error.code, 'unavailable');
      assert.match(ready.body.error.message, /log \(SQLITE_FULL\)/);
      assert.deepEqual((await fetch(`${gw.url}/healthz`)).status, 200, 'liveness is not readiness');

      const logged = lines.find((l) => l.level === 50 && l.check === 'log' && l.cause === 'SQLITE_FULL');
      assert.ok(logged, `an error line names the cause: ${JSON.stringify(lines)}`);
      assert.match(String(logged.err), /full/i);

      // Space comes back: the probe notices by itself, and the same batch goes in.
      const recovered = nextChange(health, (f) => f === undefined);
      rmSync(join(dir, 'filler'));
      await recovered;
      assert.equal((await readyz(gw)).status, 200);
      const again = await post(gw, '/v1/streams/task:full/events', { events: big });
      assert.equal(again.status, 200);
      assert.equal(again.body.results.length, 100);
      assert.ok(lines.some((l) => l.level === 30 && l.check === 'log' && /works again/.test(String(l.msg))));
      // The recovery is on the system stream for watchers (the failure could not be stored).
      const system = await gw.engine.read('system', 0, 100);
      assert.ok(
        system.events.some(
          (e) => e.type === 'system:alert' && /works again/.test((e.data as { message: string }).message),
        ),
        JSON.stringify(system.events),
      );
    } finally {
      await gw.close();
      execFileSync('umount', [dir]);
    }
  });

  it('a database damaged mid-file', { timeout: 60_000 }, async () => {
    const path = join(root, 'damaged', 'log.db');
    const engine = new SqliteEngine({ path, checkpointIntervalMs: 0 });
    for (let i = 0; i < 40; i++) {
      await engine.append(
        `task:t${i}`,
        Array.from({ length: 50 }, (_, j) => ({ id: `t${i}-${j}`, time: Date.now(), ...line(j, 200) })),
      );
    }
    await engine.close();
    // Garbage over the middle of the file: the header and schema (page 1) stay intact, so it opens.
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(64 * 1024, 0xa5), 0, 64 * 1024, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);

    const { logger, lines } = capturedLogger();
    const gw = await createGateway({ port: 0, logger, engine: { kind: 'sqlite', path } });
    try {
      // The integrity check at open finds it without any request reading the damaged pages.
      const ready = await readyzWhen(gw, (r) => r.status === 503);
      const fault = gw.engine.health!.fault;
      assert.match(fault!.cause, /^SQLITE_CORRUPT/);
      assert.equal(fault!.lasting, true);
      assert.equal(ready.status, 503);
      assert.equal(ready.body.checks.log.lasting, true);
      assert.match(ready.body.checks.log.cause, /^SQLITE_CORRUPT/);
      assert.ok(
        lines.some((l) => l.level === 50 && l.check === 'log' && /CORRUPT/.test(String(l.cause))),
        JSON.stringify(lines),
      );

      // Requests that touch the damage are refused with the typed, retryable code, never a bare 500.
      let touched = 0;
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`${gw.url}/v1/streams/task:t${i}/events?limit=1000`);
        if (res.status === 200) continue;
        touched++;
        assert.equal(res.status, 503);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field
        const body = (await res.json()) as any;
        assert.equal(body.error.code, 'storage_unavailable');
        assert.ok(res.headers.get('retry-after'));
      }
      assert.ok(touched > 0, 'some stream lives on the damaged pages');
      // A lasting fault: a write that happens to land elsewhere does not make it ready again.
      await gw.publish('task:fresh', [line(1)]).catch(() => {});
      assert.equal((await readyz(gw)).status, 503);
    } finally {
      await gw.close();
    }
  });

  it('Redis stopped and started again', { timeout: 60_000 }, async (t: TestContext) => {
    const port = await freePort();
    let redis: ChildProcess | undefined;
    try {
      redis = await startRedis(port);
    } catch (err) {
      t.skip(`cannot run a redis-server of this test's own (${(err as Error).message})`);
      return;
    }
    const { logger, lines } = capturedLogger();
    const gw = await createGateway({
      port: 0,
      logger,
      engine: { kind: 'redis', url: `redis://127.0.0.1:${port}`, prefix: 'outage:' },
    });
    try {
      assert.equal((await post(gw, '/v1/streams/task:r/events', { events: [line(0)] })).status, 200);

      await stopRedis(redis);
      const refused = await post(gw, '/v1/streams/task:r/events', { events: [line(1)] });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'storage_unavailable');
      assert.ok(refused.retryAfter);
      assert.doesNotMatch(refused.body.error.message, /127\.0\.0\.1/, 'no addresses to clients');
      const health = gw.engine.health!;
      assert.ok(health.fault);
      const ready = await readyz(gw);
      assert.equal(ready.status, 503);
      assert.equal(ready.body.checks.log.ok, false);
      assert.equal(ready.body.checks.log.cause, health.fault?.cause);
      assert.match(refused.body.error.details.cause, /^E[A-Z]+$/, 'the socket error, not a retry counter');
      assert.ok(
        lines.some((l) => l.level === 50 && l.check === 'log'),
        JSON.stringify(lines),
      );

      const recovered = nextChange(health, (f) => f === undefined);
      redis = await startRedis(port);
      await recovered;
      assert.equal((await readyz(gw)).status, 200);
      const again = await post(gw, '/v1/streams/task:r/events', { events: [line(1)] });
      assert.equal(again.status, 200);
      assert.equal(again.body.results[0].seq, 2);
      const system = await gw.engine.read('system', 0, 100);
      assert.ok(system.events.some((e) => e.type === 'system:alert'));
    } finally {
      await gw.close();
      if (redis) await stopRedis(redis);
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of this test's own (the shared one is never touched), persisting to `root`. */
async function startRedis(port: number): Promise<ChildProcess> {
  const dir = join(root, `redis-${port}`);
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out.slice(-300)}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/Ready to accept connections/.test(out)) resolve();
    });
  });
  child.removeAllListeners('exit');
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
