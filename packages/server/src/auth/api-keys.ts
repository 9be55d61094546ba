import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../config-error.js';
import type { ApiKeyConfig } from './options.js';
import type { AuthPrincipal } from './principal.js';
import { restrictedScope } from './scope.js';

const MIN_KEY_LENGTH = 24;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The configured producer keys, held only as SHA-256 digests. A presented key is hashed and the
 * digests compared in constant time, so neither the config in memory nor the timing tells the key.
 */
export class ApiKeys {
  private readonly entries: { digest: Buffer; principal: AuthPrincipal }[];

  constructor(keys: readonly ApiKeyConfig[]) {
    this.entries = keys.map((k) => {
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(k.name))
        throw new ConfigError(`API key name ${JSON.stringify(k.name)} must be 1-64 of A-Z a-z 0-9 . _ -.`);
      let digest: Buffer;
      if (k.key !== undefined) {
        if (k.key.length < MIN_KEY_LENGTH)
          throw new ConfigError(`API key ${k.name} is shorter than ${MIN_KEY_LENGTH} characters.`);
        digest = sha256(k.key);
      } else if (k.sha256 !== undefined && /^[0-9a-f]{64}$/i.test(k.sha256)) {
        digest = Buffer.from(k.sha256, 'hex');
      } else {
        throw new ConfigError(`API key ${k.name} needs a key or a sha256 digest (64 hex digits).`);
      }
      const restricted = k.streams !== undefined || k.projects !== undefined;
      const principal: AuthPrincipal = {
        kind: 'api-key',
        subject: `key:${k.name}`,
        role: k.role,
        scope: restricted ? restrictedScope(k.streams ?? [], k.projects ?? []) : 'all',
        publish: true,
      };
      return { digest, principal };
    });
  }

  get size(): number {
    return this.entries.length;
  }

  /** The principal of a configured key, or undefined. Every entry is compared, match or not. */
  match(presented: string): AuthPrincipal | undefined {
    if (this.entries.length === 0) return undefined;
    const digest = sha256(presented);
    let found: AuthPrincipal | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, digest)) found ??= e.principal;
    return found;
  }
}

/** The SHA-256 hex digest to put in a config instead of the key (`agentwire key`). */
export function apiKeyDigest(key: string): string {
  return sha256(key).toString('hex');
}
