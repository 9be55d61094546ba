// What `npm pack` would publish for each package: compiled code and its types, never a test, the
// test-support folder (dist/testing, a dev-only entry point) or the compiler's build-info file.
// Run after a build, as `npm test` does: the check needs the compiled dist folders to be there.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const packages = join(new URL('..', import.meta.url).pathname, 'packages');

const forbidden = [
  { why: 'a test file', match: (path) => /\.test\./.test(path) },
  { why: 'test support', match: (path) => /(^|\/)(testing|test)\//.test(path) },
  { why: 'build info', match: (path) => path.includes('tsbuildinfo') },
];

const names = readdirSync(packages).filter((name) => {
  try {
    readFileSync(join(packages, name, 'package.json'));
    return true;
  } catch {
    return false;
  }
});

for (const name of names) {
  test(`${name}: the packed tarball holds no test, test support or build info`, async () => {
    const dir = join(packages, name);
    // --ignore-scripts: packing must not rebuild; --dry-run: nothing is written.
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [pack] = JSON.parse(stdout);
    const paths = pack.files.map((f) => f.path);
    // A tarball without compiled code means the package was not built; its check would prove nothing.
    assert.ok(
      paths.some((p) => p.startsWith('dist/') && p.endsWith('.js')),
      `${name} packs no compiled file; build first`,
    );
    const shipped = paths.flatMap((path) =>
      forbidden.filter((rule) => rule.match(path)).map((rule) => `${path} (${rule.why})`),
    );
    assert.deepEqual(shipped, [], `${name} would ship:\n${shipped.join('\n')}`);
  });
}
