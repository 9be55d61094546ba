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

/**
 * Takes one of a user's connection slots for this node if the user holds fewer than `max` on the
 * nodes still alive. KEYS: the user's slot hash (node → count), the `nodes` ZSET (node → time its
 * report expires). ARGV: node, max, ttl ms, now (ms). A field of a node missing from `nodes` or
 * expired there is a dead node's and is dropped here, so a killed node's slots come back once its
 * report expires. Returns `{1, total}` when taken, `{0, total}` when the user is at `max`.
 */
export const TAKE_CONNECTION = script(
  'take-connection',
  `
local node = ARGV[1]
local max = tonumber(ARGV[2])
local now = tonumber(ARGV[4])
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  local holder = fields[i]
  local n = tonumber(fields[i + 1]) or 0
  if holder ~= node then
    local expires = redis.call('ZSCORE', KEYS[2], holder)
    if not expires or tonumber(expires) < now then
      redis.call('HDEL', KEYS[1], holder)
      n = 0
    end
  end
  if n > 0 then total = total + n end
end
if max > 0 and total >= max then return {0, total} end
redis.call('HINCRBY', KEYS[1], node, 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, total + 1}
`,
);

/** Gives one of this node's slots of a user back. KEYS: the user's slot hash. ARGV: node. */
export const GIVE_CONNECTION = script(
  'give-connection',
  `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
`,
);

/**
 * A producer's ingest token bucket, shared by every node: `rate` tokens a second refill up to
 * `burst`; a batch spends `cost`. Time is Redis's own clock, so nodes' clocks do not matter.
 * KEYS: the bucket hash. ARGV: rate, burst, cost. Returns 0 when admitted, else the ms until
 * `cost` tokens are there. The key expires once the bucket would be full again.
 */
export const TAKE_TOKENS = script(
  'take-tokens',
  `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local wait = 0
if tokens >= cost then tokens = tokens - cost
else wait = math.ceil((cost - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return wait
`,
);
