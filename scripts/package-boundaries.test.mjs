// Packages meet only at their entry points: an import of another workspace package names one of
// the subpaths its package.json `exports` (never `@agentwire/x/dist/...`), and a relative import
// never leaves the folder of the package (or of bench/, examples/, python/) it is written in.
// Reads the sources, so it needs no build.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(new URL('..', import.meta.url).pathname);
const self = fileURLToPath(import.meta.url);
const packagesDir = join(root, 'packages');

/** Every workspace package: its name, folder and the subpaths it exports. */
const workspaces = readdirSync(packagesDir)
  .map((dir) => join(packagesDir, dir))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const exported =
      pkg.exports === undefined
        ? ['.']
        : typeof pkg.exports === 'string' || !Object.keys(pkg.exports).some((k) => k.startsWith('.'))
          ? ['.']
          : Object.keys(pkg.exports);
    return { name: pkg.name, dir, exported };
  });
const byName = new Map(workspaces.map((w) => [w.name, w]));

/** The folders sources are written in, each its own boundary. */
const units = [
  ...workspaces.map((w) => w.dir),
  ...['bench', 'examples', 'python', 'scripts'].map((d) => join(root, d)),
].filter((d) => existsSync(d));

const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;
const SKIP = new Set(['node_modules', 'dist', '.git', 'build', 'coverage']);

function* sources(dir) {
  for (const entry of readdirSync(dir)) {
    if (SKIP.has(entry) || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (SOURCE.test(entry) && !entry.endsWith('.d.ts')) yield path;
  }
}

// `from '…'`, `import '…'`, `import('…')`, `require('…')`: the specifiers a module loads.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire(?:\.resolve)?\s*\(\s*)['"]([^'"\n]+)['"]/g;

/** What is wrong with the imports of `text`, written in `file` inside the boundary `unit`. */
function importProblems(file, unit, text) {
  const found = [];
  const where = relative(root, file);
  for (const [, spec] of text.matchAll(SPECIFIER)) {
    const scoped = /^(@agentwire\/[^/]+)(?:\/(.+))?$/.exec(spec);
    if (scoped) {
      const target = byName.get(scoped[1]);
      const subpath = scoped[2] === undefined ? '.' : `./${scoped[2]}`;
      if (target && !target.exported.includes(subpath))
        found.push(`${where}: ${spec} (${scoped[1]} exports ${target.exported.join(', ')})`);
    } else if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      if (target !== unit && !target.startsWith(unit + sep))
        found.push(`${where}: ${spec} leaves ${relative(root, unit) || '.'}`);
    }
  }
  return found;
}

test('no package imports another package past its entry points', () => {
  const found = [];
  for (const unit of units) {
    for (const file of sources(unit)) {
      // This file holds refused imports on purpose, as the samples of the test below.
      if (file === self) continue;
      found.push(...importProblems(file, unit, readFileSync(file, 'utf8')));
    }
  }
  assert.deepEqual(found, []);
});

test('the check refuses a deep import and a relative path into another package', () => {
  const dashboard = byName.get('@agentwire/dashboard').dir;
  const file = join(dashboard, 'test', 'x.test.ts');
  const text = [
    "import { startDemoWorkload } from '@agentwire/cli/dist/demo/index.js';",
    "import { createGateway } from '../../server/src/gateway.js';",
    "const m = await import('@agentwire/server/dist/index.js');",
    "import { startDemoWorker } from '@agentwire/cli/demo';",
    "import { createGateway as g } from '@agentwire/server';",
    "import { x } from './harness.js';",
  ].join('\n');
  const found = importProblems(file, dashboard, text);
  assert.equal(found.length, 3, found.join('\n'));
  assert.match(found[0], /@agentwire\/cli\/dist/);
  assert.match(found[1], /leaves packages\/dashboard/);
  assert.match(found[2], /@agentwire\/server\/dist/);
});
