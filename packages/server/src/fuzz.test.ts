import assert from 'node:assert/strict';
import { connect as tcp, type Socket } from 'node:net';
import { it } from 'node:test';
import { errorCodes, isErrorCode, projectStream } from '@agentwire/protocol';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { A, B, cast, log, spawned, PRODUCER_KEY, SECRET, secureGateway, token } from './testing/auth-kit.js';
import { surfaces, watcherSurfaces, type Watch } from './testing/surfaces.js';
import { httpInput, pick, rng, sioFrame, wsFrame, type Rng } from './testing/fuzz-inputs.js';
import { pace } from './testing/wait.js';

/**
 * Throws malformed and adversarial input at every endpoint and transport of a gateway with auth
 * (every surface of testing/surfaces.ts: its sockets, its routes, and a legitimate watcher on it),
 * for AGENTWIRE_FUZZ_MS (default 3 s), while project B keeps publishing. Asserts the gateway stays
 * up and answers /healthz, its memory stays bounded, no byte of project B reaches a caller without
 * rights to it, and every refusal carries a code from the registry (every close, a registry close
 * code). Prints how many inputs of each kind it tried. AGENTWIRE_FUZZ_SEED replays a run.
 */
const BUDGET_MS = Number(process.env.AGENTWIRE_FUZZ_MS ?? 3000);
const SEED = Number(process.env.AGENTWIRE_FUZZ_SEED ?? Date.now() % 1_000_000);
/** What project B's events carry; seeing it anywhere a caller lacks rights to B is a leak. */
const B_MARK = 'beta-secret';
const closeCodes = new Set<number>([
  ...Object.values(errorCodes).map((e) => e.close),
  1000,
  1001,
  1005,
  1006,
]);

it(
  `survives ${BUDGET_MS} ms of hostile input on every transport (seed ${SEED})`,
  { timeout: BUDGET_MS + 60_000 },
  async (t) => {
    // Seed 004's terminal follows one task under its task mapping, as the shared surfaces expect.
    const gw = await secureGateway({
      limits: { maxBodyBytes: 1024 * 1024 },
      swarmTerminal: { stream: 'task:{projectId}' },
    });
    const cred = await cast();
    const expired = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('old')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(SECRET));
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('x'.repeat(40)));
    /** Credentials a fuzzer holds: none may see project B. */
    const credentials: [string, string | undefined][] = [
      ['none', undefined],
      ['forged', forged],
      ['expired', expired],
      ['viewer-a', cred.viewerA],
      ['operator-a', cred.operatorA],
      ['publisher-a', cred.publisherA],
      ['garbage', 'not.a.token'],
    ];
    const counts = new Map<string, number>();
    const count = (kind: string) => counts.set(kind, (counts.get(kind) ?? 0) + 1);
    const failures: string[] = [];
    const fail = (what: string) => {
      if (failures.length < 20) failures.push(what);
    };
    const checkCode = (code: unknown, where: string) => {
      if (!isErrorCode(code)) fail(`${where}: refusal without a registry code: ${JSON.stringify(code)}`);
    };
    const checkLeak = (text: string, where: string) => {
      if (text.includes(B_MARK)) fail(`${where}: project B data reached a caller without rights to it`);
    };
    // A legitimate watcher of A on every watcher surface, each its own user (the per-user connection
    // limit is the fuzzers'): they must keep working, and see nothing of B.
    const watchers: [string, Watch][] = [];
    for (const [i, surface] of watcherSurfaces.entries()) {
      const credential = await token({ sub: `watcher-${i}`, role: 'viewer', projects: [A.project] });
      watchers.push([surface.name, await surface.watch.open(gw.url, credential, A.task)]);
    }

    const routes = surfaces.flatMap((s) => s.routes ?? []);
    const deadline = Date.now() + BUDGET_MS;
    const running = () => Date.now() < deadline;
    const wsBase = gw.url.replace('http', 'ws');
    const baseline = process.memoryUsage().rss;
    let peak = baseline;

    // Project B keeps publishing throughout: the data that must never leak.
    const producer = (async () => {
      for (let i = 0; running(); i++) {
        await gw.publish(B.task, [log(`${B_MARK} ${i}`)]);
        await gw.publish(projectStream(B.project), [log(`${B_MARK} project ${i}`)]);
        await pace(10);
      }
    })();

    const health = (async () => {
      while (running()) {
        const res = await fetch(`${gw.url}/healthz`);
        assert.equal(res.status, 200, 'healthz during the fuzz');
        await res.arrayBuffer();
        peak = Math.max(peak, process.memoryUsage().rss);
        await pace(100);
      }
    })();

    async function httpWorker(r: Rng): Promise<void> {
      while (running()) {
        const input = httpInput(r, routes);
        const [who, credential] = pick(r, credentials);
        count(input.kind);
        const headers: Record<string, string> = {};
        if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
        if (input.contentType) headers['content-type'] = input.contentType;
        if (r() < 0.1) headers.origin = pick(r, ['https://evil.example', 'null', 'http://localhost:3000']);
        let res: Response;
        try {
          res = await fetch(`${gw.url}${input.path}`, {
            method: input.method,
            headers,
            ...(input.body !== undefined && {
              body: typeof input.body === 'string' ? input.body : new Uint8Array(input.body),
            }),
            signal: AbortSignal.timeout(3000),
          });
        } catch {
          continue; // the gateway may cut a huge upload short; what matters is what it answers
        }
        const type = res.headers.get('content-type') ?? '';
        if (res.status >= 500 && res.status !== 503)
          fail(`${input.method} ${input.path} (${input.kind}) → ${res.status}`);
        if (type.startsWith('text/event-stream') && res.status === 200) {
          await res.body?.cancel();
          continue;
        }
        const text = await res.text().catch(() => '');
        checkLeak(text, `${who} ${input.method} ${input.path}`);
        // Socket.IO's handshake refusals keep engine.io's numeric codes: its client libraries expect them.
        if (res.status >= 400 && type.includes('json') && !input.path.includes('/socket.io/')) {
          try {
            checkCode(
              (JSON.parse(text) as { error?: { code?: unknown } }).error?.code,
              `${input.method} ${input.path}`,
            );
          } catch {
            fail(`${input.method} ${input.path}: a JSON error body that is not JSON`);
          }
        }
      }
    }

    /** Opens a socket, feeds it frames while it lives, and checks what comes back. */
    async function socketWorker(
      r: Rng,
      path: () => string,
      frame: (r: Rng) => { kind: string; data: string | Buffer; binary?: boolean },
      label: string,
      handshake?: string,
    ): Promise<void> {
      while (running()) {
        const [who, credential] = pick(r, credentials);
        const inQuery = credential !== undefined && r() < 0.5;
        const url = `${wsBase}${path()}${inQuery ? `${path().includes('?') ? '&' : '?'}token=${encodeURIComponent(credential)}` : ''}`;
        const ws = new WebSocket(url, {
          headers: !inQuery && credential !== undefined ? { authorization: `Bearer ${credential}` } : {},
        });
        count(`${label}-connect`);
        const closed = new Promise<void>((resolve) => {
          ws.on('close', (code) => {
            if (!closeCodes.has(code)) fail(`${label}: closed with ${code}, not a registry close code`);
            resolve();
          });
          ws.on('error', () => resolve());
          ws.on('unexpected-response', (_req, res) => {
            if ((res.statusCode ?? 0) >= 500) fail(`${label}: upgrade answered ${res.statusCode}`);
            res.resume();
            resolve();
          });
        });
        ws.on('message', (data) => {
          const text = data.toString();
          checkLeak(text, `${who} ${label}`);
          if (text.includes('"error"')) {
            const match = /"code":"([^"]*)"/.exec(text);
            if (match) checkCode(match[1], label);
          }
        });
        const opened = await new Promise<boolean>((resolve) => {
          ws.once('open', () => resolve(true));
          void closed.then(() => resolve(false));
        });
        if (!opened) continue;
        if (handshake) ws.send(handshake.replace('TOKEN', credential ?? ''));
        const n = Math.floor(r() * 40) + 1;
        for (let i = 0; i < n && ws.readyState === ws.OPEN && running(); i++) {
          const f = frame(r);
          count(f.kind);
          ws.send(f.data, { binary: f.binary ?? false });
          if (i % 8 === 0) await new Promise((res) => setImmediate(res));
        }
        await new Promise((res) => setTimeout(res, 5));
        ws.terminate();
        await closed;
      }
    }

    async function halfOpen(r: Rng): Promise<void> {
      const sockets: Socket[] = [];
      while (running()) {
        const socket = tcp(gw.port, '127.0.0.1');
        socket.on('error', () => {});
        sockets.push(socket);
        count('half-open');
        socket.write(
          pick(r, [
            'GET /v1/tasks HTTP/1.1\r\nHost: x\r\n',
            'GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x81',
            'POST /v1/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"type":',
            '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
            'GARBAGE\r\n\r\n',
          ]),
        );
        if (sockets.length > 40) sockets.shift()!.destroy();
        await new Promise((res) => setTimeout(res, 20));
      }
      for (const s of sockets) s.destroy();
    }

    async function flood(): Promise<void> {
      while (running()) {
        const ws = new WebSocket(`${gw.wsUrl}?token=${cred.viewerA}`);
        const code = await new Promise<number>((resolve) => {
          ws.on('open', () => {
            for (let i = 0; i < 3000 && ws.readyState === ws.OPEN; i++) ws.send('{"op":"ping"}');
            count('flood-3000-pings');
          });
          ws.on('close', (c) => resolve(c));
          ws.on('error', () => resolve(1006));
        });
        if (!closeCodes.has(code)) fail(`flood closed with ${code}`);
      }
    }

    const r = rng(SEED);
    const sockets = surfaces.flatMap((s) => (s.socket ? [{ name: s.name, ...s.socket }] : []));
    const seeds = Array.from({ length: 8 + sockets.length }, () => Math.floor(r() * 2 ** 31));
    await Promise.all([
      producer,
      health,
      ...[0, 1, 2].map((i) => httpWorker(rng(seeds[i]!))),
      // One worker per socket surface, and a second on the first (the native WebSocket).
      ...[...sockets, sockets[0]!].map((socket, i) => {
        const sr = rng(seeds[5 + i]!);
        return socketWorker(
          sr,
          () => pick(sr, socket.paths),
          socket.frames === 'socketio' ? sioFrame : wsFrame,
          socket.name,
          socket.handshake,
        );
      }),
      halfOpen(rng(seeds[3]!)),
      flood(),
    ]);

    // Still serving, and serving A's watchers: publish to A and see it arrive on every surface.
    await gw.publish(A.task, [log('after the fuzz'), spawned('after-the-fuzz')]);
    for (const [name, watch] of watchers) {
      await watch.until(
        () => watch.texts.some((f) => f.includes('after the fuzz') || f.includes('after-the-fuzz')),
        `the legitimate watcher on ${name} to still receive`,
      );
      assert.equal(watch.refusal, undefined, `the legitimate watcher on ${name} was refused`);
      for (const f of watch.texts) checkLeak(f, `the viewer of A on ${name}`);
      watch.close();
    }
    const list = await fetch(`${gw.url}/v1/tasks`, { headers: { authorization: `Bearer ${PRODUCER_KEY}` } });
    const seen = (await list.json()) as { tasks: unknown[]; total: number };
    assert.deepEqual([seen.tasks, seen.total], [[], 0], 'a producer key reads nothing');
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    const growth = peak - baseline;

    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(
      `fuzz: ${total} inputs in ${BUDGET_MS} ms (seed ${SEED}); rss growth ${(growth / 1048576).toFixed(1)} MiB`,
    );
    for (const [kind, n] of [...counts].sort((a, b) => b[1] - a[1]))
      t.diagnostic(`  ${kind.padEnd(26)} ${n}`);
    await gw.close();
    assert.deepEqual(failures, []);
    assert.ok(growth < 512 * 1024 * 1024, `memory grew by ${growth} bytes`);
  },
);
