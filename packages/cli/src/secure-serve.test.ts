import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const bin = fileURLToPath(new URL('./bin.js', import.meta.url));

/** Starts the CLI and resolves with its output once `pattern` appears in it. */
function start(args: string[], pattern: RegExp) {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, NO_COLOR: '1', AGENTWIRE_INSECURE: '' },
  });
  let output = '';
  const seen = new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in: ${output}`)), 15_000);
    const check = () => {
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on('data', (d: Buffer) => ((output += d.toString()), check()));
    child.stderr.on('data', (d: Buffer) => ((output += d.toString()), check()));
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM')));
  return { seen, stop, output: () => output };
}

describe('agentwire serve is secure by default', () => {
  let dir: string;
  let site: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentwire-secure-'));
    site = mkdtempSync(join(tmpdir(), 'agentwire-site-'));
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>dashboard</title>');
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(site, { recursive: true, force: true });
  });

  it('generates a 0600 secret, prints a dashboard link with an admin token, and refuses requests without one', async () => {
    const cli = start(
      [
        'serve',
        '--port',
        '0',
        '--engine',
        'memory',
        '--data',
        dir,
        '--dashboard',
        site,
        '--log-level',
        'info',
      ],
      /Dashboard\s+(http:\/\/\S+)\/\?token=(\S+)/,
    );
    try {
      const [, base, token] = await cli.seen;
      assert.equal(statSync(join(dir, 'auth-secret')).mode & 0o777, 0o600);
      assert.equal((await fetch(`${base}/v1/tasks`)).status, 401);
      const ok = await fetch(`${base}/v1/tasks`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      const stats = await fetch(`${base}/v1/stats?token=${token}`);
      assert.equal(stats.status, 200, 'the dashboard token is an admin token');
    } finally {
      await cli.stop();
    }
  });

  it('runs open only with --insecure, and says so', async () => {
    const cli = start(
      [
        'serve',
        '--insecure',
        '--port',
        '0',
        '--engine',
        'memory',
        '--data',
        dir,
        '--dashboard',
        'off',
        '--log-level',
        'info',
      ],
      /Tasks \(JSON\)\s+(http:\/\/\S+)\/v1\/tasks/,
    );
    try {
      const [, base] = await cli.seen;
      assert.equal((await fetch(`${base}/v1/tasks`)).status, 200);
      assert.match(cli.output(), /--insecure/);
    } finally {
      await cli.stop();
    }
  });
});
