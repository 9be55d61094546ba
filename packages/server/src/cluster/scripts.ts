import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script of the cluster's; unlike the log's, some take a variable number of keys. */
export interface ClusterScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): ClusterScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Runs a script by its hash, loading it on first use (or after Redis restarted and forgot it). */
export async function runClusterScript(
  redis: Redis,
  lua: ClusterScript,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(lua.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(lua.source, keys.length, ...keys, ...args);
  }
}

/**
 * Records that a producer on this node owns a task, and returns who owned it before (or false), so
 * the previous node can be told to let go. KEYS: owner. ARGV: `<node> <producer>`, ttl ms.
 */
export const CLAIM_OWNER = script(
  'claim-owner',
  `
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return previous
`,
);

/**
 * Forgets an ownership only if it is still the one this node wrote: another node's newer claim
 * must survive this node's late release. KEYS: owner. ARGV: `<node> <producer>`.
 */
export const RELEASE_OWNER = script(
  'release-owner',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);

/**
 * Extends this node's ownerships, each only if it is still this node's. KEYS: owner keys.
 * ARGV: ttl ms, then one `<node> <producer>` per key. Returns how many were extended.
 */
export const REFRESH_OWNERS = script(
  'refresh-owners',
  `
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
    n = n + 1
  end
end
return n
`,
);

/**
 * Binds a producer id to a credential's identity unless another identity holds it; extends the
 * binding when it is already this identity's. KEYS: producer. ARGV: identity, ttl ms. Returns 1
 * when bound, 0 when another identity holds the id.
 */
export const BIND_PRODUCER = script(
  'bind-producer',
  `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`,
);

/**
 * Extends the bindings this node's producers hold, each only if it is still theirs, and writes
 * back one Redis lost meanwhile (a restart). KEYS: producer keys. ARGV: ttl ms, then one identity
 * per key.
 */
export const REFRESH_PRODUCERS = script(
  'refresh-producers',
  `
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if not holder then redis.call('SET', key, ARGV[i + 1], 'PX', ARGV[1])
  elseif holder == ARGV[i + 1] then redis.call('PEXPIRE', key, ARGV[1]) end
end
return 0
`,
);
