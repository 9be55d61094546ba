import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config-error.js';

export const SECRET_FILE = 'auth-secret';

/**
 * The gateway's HS256 secret in its data folder: read if it exists, else generated (32 random
 * bytes, base64url) and written readable by the owner only. Secure by default without asking the
 * operator to invent a secret; anyone who can read the file can mint tokens, like a key file.
 */
export function loadOrCreateSecret(dataDir: string): { secret: string; path: string; created: boolean } {
  const path = join(dataDir, SECRET_FILE);
  try {
    const secret = readFileSync(path, 'utf8').trim();
    if (secret.length < 32)
      throw new ConfigError(`${path} holds fewer than 32 characters; delete it to have a new one generated.`);
    // Tighten a file someone loosened; the secret is as sensitive as a private key.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return { secret, path, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  // `wx`: never overwrite a secret another process created a moment ago.
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateSecret(dataDir);
    throw err;
  }
  return { secret, path, created: true };
}

/** The secret if the data folder has one; nothing is created. For local tools (`agentwire tail`). */
export function readSecret(dataDir: string): string | undefined {
  try {
    const secret = readFileSync(join(dataDir, SECRET_FILE), 'utf8').trim();
    return secret.length >= 32 ? secret : undefined;
  } catch {
    return undefined;
  }
}
