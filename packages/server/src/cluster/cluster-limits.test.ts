// The per-user connection limit and the per-producer ingest rate hold across gateway nodes on one
// Redis: a user cannot multiply its slots by spreading connections over nodes, a producer cannot
// multiply its rate by spreading batches, and a killed node's slots come back.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getJson, log, PRODUCER_KEY, SECRET, token } from '../testing/auth-kit.js';
import { createGateway, type Gateway } from '../gateway.js';
import { wipeRedisPrefix } from '../testing/redis.js';
import { requireService } from '../testing/services.js';
import { WsProbe } from '../testing/ws-probe.js';
import { waitUntil } from '../testing/wait.js';

const url = process.env.AGENTWIRE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const skip = await requireService('Redis', url);
const child = fileURLToPath(new URL('../testing/children/limits-child.js', import.meta.url));
const MAX = 3;

describe('limits across a cluster', { skip }, () => {
  const prefix = `agentwire-test:cluster-limits-${randomBytes(6).toString('hex')}:`;
  let nodes: Gateway[] = [];
  const probes: WsProbe[] = [];
  let proc: ChildProcess | undefined;

  before(async () => {
    nodes = await Promise.all(
      [0, 1, 2].map(() =>
        createGateway({
          port: 0,
          logLevel: 'silent',
          engine: { kind: 'redis', url, prefix },
          auth: { secret: SECRET, apiKeys: [{ name: 'producer', key: PRODUCER_KEY }] },
          limits: { maxConnectionsPerUser: MAX, maxIngestEventsPerSecond: 10, ingestBurst: 100 },
        }),
      ),
    );
  });
  after(async () => {
    for (const p of probes) p.close();
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.close()));
    await wipeRedisPrefix(url, prefix);
  });

  /** Opens a WebSocket for `user` and resolves with whether the gateway accepted it. */
  const connect = async (wsUrl: string, user: string): Promise<WsProbe | undefined> => {
    const probe = await WsProbe.open(`${wsUrl}?token=${user}`);
    probes.push(probe);
    await probe.until(
      () => probe.closeCode !== undefined || probe.frames.some((f) => f.op === 'authenticated'),
    );
    if (probe.closeCode === undefined) return probe;
    assert.equal(probe.closeCode, 4430, 'refused for the per-user limit');
    return undefined;
  };

  it('refuses a user’s connection over the limit on any node, and frees the slot a closed one held', async () => {
    const user = await token({ sub: 'spreader', role: 'admin' });
    const held = [];
    for (const node of nodes) held.push(await connect(node.wsUrl, user));
    assert.ok(held.every(Boolean), 'one connection on each of three nodes is within the limit');
    // Each node holds one: alone, each would admit two more.
    assert.equal(await connect(nodes[0]!.wsUrl, user), undefined);
    assert.equal(await connect(nodes[1]!.wsUrl, user), undefined);
    // Another transport takes the same slots.
    const sse = await getJson(`${nodes[2]!.url}/v1/streams/task:spread/sse?token=${user}`, undefined, {
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(sse.status, 429);
    assert.match(String(sse.body), /too_many_connections/);

    held[2]!.close();
    // The slot freed on node three is usable from node one.
    // Every 200 ms: each attempt opens a connection, and the slot frees with time, not on an event.
    await waitUntil(
      async () => (await connect(nodes[0]!.wsUrl, user)) !== undefined,
      'a freed slot',
      5_000,
      200,
    );
    assert.equal(await connect(nodes[1]!.wsUrl, user), undefined);
  });

  it('limits a producer’s ingest rate over all nodes together', async () => {
    const post = (node: Gateway, n: number) =>
      getJson(`${node.url}/v1/streams/task:rate-spread/events`, PRODUCER_KEY, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: Array.from({ length: n }, (_, i) => log(`e${i}`)) }),
      });
    // A burst of 100 at 10 events/s: 40 + 40 fit, the next 40 do not for another two seconds,
    // whichever node they go to (each node alone would still have 60 of its own).
    assert.equal((await post(nodes[0]!, 40)).status, 200);
    assert.equal((await post(nodes[1]!, 40)).status, 200);
    const refused = await post(nodes[2]!, 40);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'rate_limited');
    assert.ok(Number(refused.body.error.details?.retryAfterMs ?? refused.body.error.retryAfterMs) > 0);
  });

  it('gives back the slots of a node killed with SIGKILL once its presence expires', async () => {
    const user = await token({ sub: 'survivor', role: 'admin' });
    proc = spawn(process.execPath, [child, url, prefix, String(MAX)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const childUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc!.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const m = /ready (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      proc!.once('exit', (code) => reject(new Error(`the gateway child exited (code ${code}): ${stderr}`)));
    });
    assert.ok(await connect(childUrl, user));
    assert.ok(await connect(childUrl, user));
    assert.ok(await connect(nodes[0]!.wsUrl, user));
    assert.equal(
      await connect(nodes[1]!.wsUrl, user),
      undefined,
      'two on the child and one here fill the limit',
    );

    const exited = new Promise((resolve) => proc!.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
    // No clean shutdown told anyone: the child's two slots come back when its presence report expires.
    await waitUntil(
      async () => (await connect(nodes[1]!.wsUrl, user)) !== undefined,
      'the dead node’s slots',
      20_000,
      200,
    );
    assert.ok(await connect(nodes[2]!.wsUrl, user));
    assert.equal(await connect(nodes[1]!.wsUrl, user), undefined, 'the limit still holds after');
  });
});
