import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { taskIdOf } from '@agentwire/protocol';
import { Proc, waitFor } from './testing/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The commands a newcomer copies: every `npx agentwire …` line of the README (inline code and `sh`
 * blocks) and of what `npm start` prints. A command added to either that this test does not know
 * how to check fails it, so the README and the start-up text cannot drift from what works.
 */
function readmeCommands(markdown: string): string[] {
  const commands: string[] = [];
  const prose = markdown.replace(/```(\w*)\n([\s\S]*?)```/g, (_, lang: string, body: string) => {
    if (lang === 'sh' || lang === 'bash')
      commands.push(...body.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()));
    return '';
  });
  for (const m of prose.matchAll(/`([^`\n]+)`/g)) commands.push(m[1]!);
  return [...new Set(commands.filter((c) => c.includes('npx agentwire')))];
}

function printedCommands(output: string): string[] {
  return [...output.matchAll(/^ {2}[A-Z][^:\n]*: +(.*npx agentwire.*)$/gm)].map((m) => m[1]!.trim());
}

type Kind = 'tail' | 'token' | 'quickstart';
function kindOf(command: string): Kind {
  if (/quickstart\.js$/.test(command)) return 'quickstart';
  if (/^npx agentwire tail\b/.test(command)) return 'tail';
  if (/^npx agentwire token\b/.test(command)) return 'token';
  throw new Error(`A command this test does not know how to check: ${command}`);
}

/** Whether this is a git checkout, whose file list says what a clone holds. */
function gitFiles(): string[] | undefined {
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) return undefined;
  return r.stdout.split('\0').filter((f) => f !== '' && existsSync(join(root, f)));
}

/**
 * A shell as a newcomer has one: none of the npm or agentwire settings this test runs under (npm
 * test sets npm_config_* and puts this checkout's node_modules/.bin first on PATH), an empty npm
 * cache, and offline, so anything npx would fetch from a registry fails loudly.
 */
function newcomerEnv(cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|NPM_|AGENTWIRE_|INIT_CWD$|NODE_ENV$)/.test(k)) continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => !p.includes(`node_modules${'/'}.bin`))
    .join(delimiter);
  return {
    ...env,
    npm_config_cache: cache,
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    NO_COLOR: '1',
  };
}

const files = gitFiles();
const skip =
  files === undefined
    ? process.env.CI === 'true'
      ? false
      : 'not a git checkout: there is no list of what a clone would hold'
    : false;

/**
 * The README's set-up on a fresh clone, then its second-terminal commands as written. The clone is
 * the checkout's files minus everything git ignores (no dist/, no node_modules/), so nothing built
 * here leaks in. Its node_modules is this checkout's packages, copied to spare a download, without
 * the workspace links, the bin links and npm's record of them: `npm install` creates those itself,
 * as on any fresh clone, before anything is built. Building is `prepare`'s job; copying this
 * checkout's dist/ stands in for it, as it takes minutes and npm links bins before it runs.
 */
describe('the README on a fresh clone', { skip }, () => {
  let clone: string;
  let cache: string;
  let env: NodeJS.ProcessEnv;
  let gateway: Proc | undefined;

  before(() => {
    clone = mkdtempSync(join(tmpdir(), 'agentwire-clone-'));
    cache = mkdtempSync(join(tmpdir(), 'agentwire-npm-cache-'));
    env = newcomerEnv(cache);
    if (!files) throw new Error('CI runs in a git checkout: the fresh-clone test needs its file list');
    for (const file of files) {
      const to = join(clone, file);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(join(root, file), to);
      chmodSync(to, statSync(join(root, file)).mode);
    }
    execFileSync('cp', ['-a', join(root, 'node_modules'), clone]);
    for (const made of ['@agentwire', '.bin/agentwire', '.package-lock.json'])
      rmSync(join(clone, 'node_modules', made), { recursive: true, force: true });
  });
  after(async () => {
    await gateway?.stop();
    rmSync(clone, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  it('npm install links `agentwire` to the workspace CLI, which npx finds offline before anything is built', async () => {
    const install = Proc.start('npm', ['install', '--ignore-scripts'], { cwd: clone, env });
    assert.equal(await install.done(), 0, install.output);
    const linked = join(clone, 'node_modules', '.bin', 'agentwire');
    assert.ok(existsSync(linked), `npm install created no node_modules/.bin/agentwire:\n${install.output}`);
    assert.equal(realpathSync(linked), realpathSync(join(clone, 'packages/cli/bin/agentwire.js')));

    const early = Proc.start('sh', ['-c', 'npx agentwire --help'], { cwd: clone, env });
    assert.equal(await early.done(), 1);
    assert.match(early.output, /agentwire: the CLI is not built yet .*npm run build/);
    assert.doesNotMatch(early.output, /ENOTCACHED|registry|Need to install/);
  });

  it('npm start runs the gateway, and the README and npm start commands work as written', async () => {
    const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      workspaces: string[];
    };
    for (const dir of workspaces) {
      if (existsSync(join(root, dir, 'dist')))
        cpSync(join(root, dir, 'dist'), join(clone, dir, 'dist'), { recursive: true });
    }
    gateway = Proc.start('npm', ['start'], { cwd: clone, env: { ...env, AGENTWIRE_PORT: '0' } });
    const [, url] = await gateway.match(/Dashboard\s+(http:\/\/[^/\s]+)\/\?token=/);
    const printed = printedCommands((await gateway.match(/Run your own agent: .*\n/)).input);
    const readme = readmeCommands(readFileSync(join(clone, 'README.md'), 'utf8'));

    assert.deepEqual([...new Set(printed.map(kindOf))].sort(), ['quickstart', 'tail'], printed.join('\n'));
    assert.ok(readme.map(kindOf).includes('tail'), readme.join('\n'));
    assert.ok(readme.map(kindOf).includes('quickstart'), readme.join('\n'));

    // The README's commands assume the default port; its "second terminal" has AGENTWIRE_URL set
    // to this one. What npm start prints names the URL itself.
    const runs = [
      ...readme.map((command) => ({ command, env: { ...env, AGENTWIRE_URL: url! } })),
      ...printed.map((command) => ({ command, env })),
    ];
    const watcher = await (async () => {
      const t = Proc.start('sh', ['-c', 'npx agentwire token'], { cwd: clone, env });
      assert.equal(await t.done(), 0, t.output);
      return t.output.trim();
    })();
    const api = async (path: string) => {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${watcher}` } });
      assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };

    for (const run of runs) {
      const proc = Proc.start('sh', ['-c', run.command], { cwd: clone, env: run.env });
      const what = `\`${run.command}\``;
      switch (kindOf(run.command)) {
        case 'tail': {
          const [, stream] = await proc.match(/following (task:\S+)/);
          // Then its events as they come, one line each: `12:00:01.234    #17 planner   tool  …`.
          await waitFor(
            () => (proc.output.split(/following task:\S+/)[1]?.match(/ #\d+ /g)?.length ?? 0) >= 3,
            `three event lines`,
            30_000,
          ).catch(async (err: Error) => {
            const { seq, state } = (await api(`/v1/tasks/${taskIdOf(stream!)!}`)) as {
              seq: number;
              state: { status: string; stage?: string } | null;
            };
            err.message += ` from ${what}; the task is at seq ${seq}, ${state?.status} (${state?.stage}):\n${proc.output}`;
            throw err;
          });
          // Ctrl-C, as in a terminal: the shell and npx go down with it.
          await proc.stop();
          break;
        }
        case 'token': {
          assert.equal(await proc.done(), 0, `${what}:\n${proc.output}`);
          const token = proc.output.trim();
          assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, `${what} prints a token`);
          const res = await fetch(`${url}/v1/tasks`, { headers: { authorization: `Bearer ${token}` } });
          assert.equal(res.status, 200, `${what}: the gateway accepts it`);
          const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
            scope?: string[];
          };
          assert.equal(claims.scope?.includes('publish') ?? false, run.command.includes('--publish'), what);
          break;
        }
        case 'quickstart': {
          assert.equal(await proc.done(), 0, `${what}:\n${proc.output}`);
          const [, stream] = /published (task:\S+)/.exec(proc.output) ?? [];
          assert.ok(stream, `${what}:\n${proc.output}`);
          const { state } = (await api(`/v1/tasks/${taskIdOf(stream)!}`)) as {
            state: { status: string; title: string };
          };
          assert.deepEqual([state.status, state.title], ['completed', 'Find the best vector database'], what);
          break;
        }
      }
    }
  });
});
