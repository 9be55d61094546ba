#!/usr/bin/env node
// The command npm links as `agentwire`. It is committed, not built, because npm links a package's
// bins before `prepare` builds it: a bin pointing into dist/ is skipped on a fresh clone, and
// `npx agentwire` then asks the package registry for a stranger's package of that name.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write(
    'agentwire: the CLI is not built yet (no packages/cli/dist/bin.js). Run `npm run build` in the repository (`npm install` runs it too).\n',
  );
  process.exit(1);
}
await import(built.href);
