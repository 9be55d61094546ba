import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The built web dashboard of the installed `@agentwire/dashboard` package, if it is installed and
 * built. Resolved through the package's manifest rather than its code: the dashboard is static files.
 */
export function installedDashboardDir(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve('@agentwire/dashboard/package.json');
    const dir = join(dirname(manifest), 'dist', 'app');
    return existsSync(join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}
