import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './options.js';

/**
 * The data folder holds the token secret and the log (every event ever published): created
 * readable by its owner only (0700). One that is not a folder, or that this user cannot write, is
 * a one-line usage error rather than a stack trace from deep inside the gateway. Returns warnings
 * about what others may read, for the caller to log once the gateway runs.
 */
export function prepareDataDir(dir: string): string[] {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new UsageError(`--data ${dir}: ${reason(err)}`);
  }
  const stat = statSync(dir);
  if (!stat.isDirectory()) throw new UsageError(`--data ${dir} is not a folder.`);
  try {
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch {
    throw new UsageError(`--data ${dir} is not writable by this user.`);
  }
  const warnings: string[] = [];
  if ((stat.mode & 0o077) !== 0)
    warnings.push(
      `the data folder ${dir} is open to other users (mode ${octal(stat.mode)}): it holds the token secret and every event; chmod 700 ${dir}`,
    );
  for (const name of ['log.db', 'log.db-wal']) {
    const mode = modeOf(join(dir, name));
    if (mode !== undefined && (mode & 0o077) !== 0)
      warnings.push(
        `${join(dir, name)} is open to other users (mode ${octal(mode)}); chmod 600 ${join(dir, name)}`,
      );
  }
  return warnings;
}

function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode;
  } catch {
    return undefined;
  }
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/** The errno's words without Node's `ENOTDIR: not a directory, mkdir '…'` decoration. */
function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a file is in the way (not a folder)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return e.message ?? String(err);
  }
}
