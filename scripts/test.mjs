#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/**/*.test.js, examples, bench and the Python SDK's
// drivers in python/dist) and the repository's own checks (scripts/*.test.mjs) with node's test runner.
// Arguments narrow the run to files whose path contains any of them: `npm test -- hub resume`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const roots = [join(root, 'packages'), join(root, 'examples'), join(root, 'bench'), join(root, 'python')];

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.js') && path.includes(`${'/'}dist${'/'}`)) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const scripts = readdirSync(join(root, 'scripts'))
  .filter((name) => name.endsWith('.test.mjs'))
  .map((name) => join(root, 'scripts', name));
const files = [...roots.flatMap((r) => walk(r, [])), ...scripts]
  .filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
