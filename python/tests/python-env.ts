import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGateway, mintToken, type Gateway } from '@agentwire/server';

/** The folder `pip install ./python` installs (python/ in the repository). */
export const packageDir = fileURLToPath(new URL('..', import.meta.url));
export const repoDir = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A Python 3 with pip and venv: `AGENTWIRE_PYTHON`, else `python3`, else Debian's. Undefined (skip,
 * with the reason) when there is none; under `CI=true` that is a failure, never a skip.
 */
export function findPython(): { python?: string; skip?: string } {
  const candidates = [process.env.AGENTWIRE_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (c): c is string => !!c,
  );
  const python = candidates.find(
    (py) =>
      spawnSync(py, ['-c', 'import sys, venv, pip; assert sys.version_info >= (3, 8)'], {
        stdio: 'ignore',
        timeout: 30_000,
      }).status === 0,
  );
  if (python) return { python };
  const message = `no python3 with pip and venv among ${candidates.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must provide one (.ci/run installs it).`);
  return { skip: `${message}; skipping (under CI=true this fails instead)` };
}

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

export function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? tmpdir(),
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/**
 * A fresh virtual environment with the package installed the way the README says, from the folder
 * and with no package index (`--no-index`): the install must work offline. The environment gets no
 * pip of its own (creating one takes half a minute); the outer pip installs into it.
 */
export async function installedPython(python: string): Promise<{ python: string; dispose: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'agentwire-py-'));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    const venv = join(dir, 'venv');
    const made = await run(python, ['-m', 'venv', '--without-pip', venv]);
    if (made.code !== 0) throw new Error(`python -m venv failed: ${made.err}`);
    const venvPython = join(venv, 'bin', 'python');
    const installed = await run(python, [
      '-m',
      'pip',
      '--python',
      venvPython,
      'install',
      '--no-index',
      '--disable-pip-version-check',
      '--quiet',
      packageDir,
    ]);
    if (installed.code !== 0)
      throw new Error(`pip install ./python failed:\n${installed.out}\n${installed.err}`);
    return { python: venvPython, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}

/** Like `agentwire serve`: auth on, a producer token as `agentwire token --publish` mints it, an operator's. */
export async function secureGateway(): Promise<{ gw: Gateway; producerToken: string; watcherToken: string }> {
  const secret = `python-sdk-test-${Math.random().toString(36).slice(2)}-${'s'.repeat(32)}`;
  const gw = await createGateway({ port: 0, logLevel: 'silent', auth: { secret } });
  const producerToken = await mintToken(
    secret,
    { sub: 'python-agent', role: 'viewer', scope: ['publish'], streams: ['*'] },
    3600,
  );
  const watcherToken = await mintToken(secret, { sub: 'alice', role: 'operator', streams: ['*'] }, 3600);
  return { gw, producerToken, watcherToken };
}
