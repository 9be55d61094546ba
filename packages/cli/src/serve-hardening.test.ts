import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from '@agentwire/client';

const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
const KEY = 'awk_file_key_0123456789abcdefghij';

/** Runs the CLI to its end: its exit code and both outputs. */
function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, NO_COLOR: '1', AGENTWIRE_INSECURE: '', AGENTWIRE_API_KEYS: '', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

/** Starts `agentwire serve` and resolves once it printed its URLs. */
function serve(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--log-level', 'info', ...args], {
    env: { ...process.env, NO_COLOR: '1', AGENTWIRE_INSECURE: '', AGENTWIRE_API_KEYS: '', ...env },
  });
  let output = '';
  const ready = new Promise<{ url: string; link: string | undefined }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${output}`)), 20_000);
    const check = () => {
      const url = /Tasks \(JSON\)\s+(http:\/\/\S+)\/v1\/tasks/.exec(output)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      resolve({ url, link: /Dashboard\s+(\S+\?token=\S+)/.exec(output)?.[1] });
    };
    child.stdout.on('data', (d: Buffer) => ((output += d.toString()), check()));
    child.stderr.on('data', (d: Buffer) => ((output += d.toString()), check()));
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { ready, stop, output: () => output };
}

const noStack = (text: string) => !/\n\s+at /.test(text);

describe('agentwire serve: secrets and files kept private, mistakes told in one line', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'agentwire-hardening-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates the data folder 0700 and log.db 0600, and warns about a folder others can read', async () => {
    const fresh = join(root, 'fresh', 'data');
    const gw = serve(['--data', fresh, '--dashboard', 'off']);
    try {
      await gw.ready;
      assert.equal(statSync(fresh).mode & 0o777, 0o700);
      assert.equal(statSync(join(fresh, 'log.db')).mode & 0o777, 0o600);
      assert.equal(statSync(join(fresh, 'log.db-wal')).mode & 0o777, 0o600);
      assert.doesNotMatch(gw.output(), /open to other users/);
    } finally {
      await gw.stop();
    }
    const loose = join(root, 'loose');
    mkdirSync(loose, { mode: 0o755 });
    chmodSync(loose, 0o755);
    const again = serve(['--data', loose, '--dashboard', 'off']);
    try {
      await again.ready;
      assert.match(again.output(), /data folder .*loose is open to other users \(mode 0755\).*chmod 700/);
    } finally {
      await again.stop();
    }
  });

  it('reads API keys from --api-key-file, and warns when a key is on the command line', async () => {
    const file = join(root, 'keys');
    writeFileSync(file, `# producers\n\nbuilder:${KEY}\n`, { mode: 0o600 });
    const data = join(root, 'keys-data');
    const gw = serve(['--data', data, '--engine', 'memory', '--dashboard', 'off', '--api-key-file', file]);
    try {
      const { url } = await gw.ready;
      const published = await fetch(`${url}/v1/streams/task%3Akeyed/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        body: JSON.stringify({ events: [{ type: 'log:entry', data: { level: 'info', message: 'k' } }] }),
      });
      assert.equal(published.status, 200);
      assert.doesNotMatch(gw.output(), /visible to every local user/);
    } finally {
      await gw.stop();
    }
    const onArgv = serve([
      '--data',
      data,
      '--engine',
      'memory',
      '--dashboard',
      'off',
      '--api-key',
      `cli:${KEY}`,
    ]);
    try {
      await onArgv.ready;
      assert.match(onArgv.output(), /--api-key on the command line is visible to every local user/);
      assert.ok(!onArgv.output().includes(KEY), 'the key itself is never printed');
    } finally {
      await onArgv.stop();
    }
  });

  it('a data folder that is a file, a short API key, a bad key file: one line and exit 2', async () => {
    const file = join(root, 'not-a-folder');
    writeFileSync(file, 'x');
    for (const [args, expected] of [
      [['--data', file], /^agentwire: --data .*not-a-folder: a file is in the way \(not a folder\)\n$/],
      [['--data', join(file, 'below')], /^agentwire: --data .*below: a file is in the way/],
      [
        ['--data', join(root, 'd1'), '--api-key', 'short:abc'],
        /^agentwire: --api-key: API key short is shorter than 24 characters\.\n$/,
      ],
      [
        ['--data', join(root, 'd2'), '--api-key-file', join(root, 'missing')],
        /^agentwire: --api-key-file .*missing: ENOENT\.\n$/,
      ],
    ] as const) {
      const result = await run(['serve', '--port', '0', '--dashboard', 'off', ...args]);
      assert.equal(result.code, 2, result.err);
      assert.match(result.err, expected);
      assert.ok(noStack(result.err), result.err);
    }
    // The same short key from the environment, and one the gateway itself refuses.
    const fromEnv = await run(['serve', '--port', '0', '--data', join(root, 'd3'), '--dashboard', 'off'], {
      AGENTWIRE_API_KEYS: 'envkey:tooshort',
    });
    assert.equal(fromEnv.code, 2);
    assert.ok(noStack(fromEnv.err), fromEnv.err);
  });

  it('token --publish publishes but does not read; with --role it also watches', async () => {
    const data = join(root, 'tokens');
    const gw = serve(['--data', data, '--engine', 'memory', '--dashboard', 'off']);
    try {
      const { url } = await gw.ready;
      const mint = async (...extra: string[]) => {
        const r = await run(['token', '--publish', '--data', data, ...extra]);
        assert.equal(r.code, 0, r.err);
        return r.out.trim();
      };
      const producer = await mint();
      const post = await fetch(`${url}/v1/streams/task%3Apub/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${producer}` },
        body: JSON.stringify({ events: [{ type: 'log:entry', data: { level: 'info', message: 'p' } }] }),
      });
      assert.equal(post.status, 200);
      const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
      for (const path of ['/v1/streams/task%3Apub/events', '/v1/streams/task%3Apub/sse']) {
        const read = await fetch(`${url}${path}`, as(producer));
        assert.equal(read.status, 403, path);
        await read.body?.cancel();
      }
      const list = (await (await fetch(`${url}/v1/tasks`, as(producer))).json()) as { tasks: unknown[] };
      assert.deepEqual(list.tasks, [], 'the task list shows it nothing');
      const watching = await mint('--role', 'viewer');
      assert.equal((await fetch(`${url}/v1/streams/task%3Apub/events`, as(watching))).status, 200);
    } finally {
      await gw.stop();
    }
  });

  it(
    'every tab from the printed dashboard link connects, past the per-user limit',
    { timeout: 60_000 },
    async () => {
      const site = join(root, 'site');
      mkdirSync(site);
      writeFileSync(join(site, 'index.html'), '<!doctype html><title>dashboard</title>');
      const gw = serve(['--data', join(root, 'tabs'), '--engine', 'memory', '--dashboard', site]);
      try {
        const { link } = await gw.ready;
        assert.ok(link, gw.output());
        const token = new URL(link).searchParams.get('token')!;
        const tabs: Client[] = [];
        try {
          for (let i = 0; i < 7; i++) {
            const tab = createClient({
              url: new URL(link).origin,
              getToken: () => token,
              transports: ['websocket'],
            });
            tabs.push(tab);
            const refused = new Promise<never>((_, reject) => tab.on('error', reject));
            await Promise.race([tab.subscribe('task:tabs').ready, refused]);
            assert.equal(tab.status, 'websocket', `tab ${i + 1}`);
          }
        } finally {
          await Promise.all(tabs.map((t) => t.close()));
        }
      } finally {
        await gw.stop();
      }
    },
  );
});
