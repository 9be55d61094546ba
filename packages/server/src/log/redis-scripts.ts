import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * The Lua scripts of the Redis engine. Each one runs atomically on the Redis server, which is what
 * makes an append gapless and idempotent even with many gateway nodes writing to one stream: the
 * dedupe check, the seq assignment, the writes and the announcement happen with nothing in between.
 *
 * A Redis script that fails half-way keeps the writes it already made, so every script checks
 * everything it can before its first write. Scripts avoid the `#!lua` header so they run on
 * Redis 6.2 as well as 7.
 */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
  readonly keys: number;
}

function script(name: string, keys: number, source: string): LuaScript {
  return { name, keys, source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Appends the calls of one group commit to one stream.
 * KEYS: meta, events, ids, index, epoch.
 * ARGV: epoch candidate, now, channel, node id, tombstone prefix ('' = none), stream, call count,
 *       announcement bound in bytes (0 = positions only),
 *       then per call: event count n, then n × (id, type, time, data, trace ('' = none)).
 * Returns: { epoch, then one number per event: its new seq, or minus the seq it duplicates }.
 * Announces on the channel when anything was stored: `[node, stream, firstSeq, lastSeq, epoch]`,
 * then, when the new events fit the bound, a newline and `[[seq, id, type, time, data, trace], …]`
 * (data spliced in as the JSON text it already is, so it is encoded once, by the producing node).
 */
export const APPEND = script(
  'append',
  5,
  `
local meta, events, ids, index, epochKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now, tomb, stream = ARGV[2], ARGV[5], ARGV[6]
local epoch = redis.call('HGET', meta, 'epoch')
local head = 0
local fresh = false
if epoch then
  head = tonumber(redis.call('HGET', meta, 'head'))
else
  -- The first event of a stream takes the deployment epoch (created here if Redis lost it).
  epoch = redis.call('GET', epochKey)
  if not epoch then
    epoch = ARGV[1]
    redis.call('SET', epochKey, epoch)
  end
  fresh = true
end
local out = { epoch }
local firstNew = 0
local bound = tonumber(ARGV[8])
-- The new events as announcement items, while they fit the bound; nil once they do not.
local items = nil
if bound > 0 then items = {} end
local size = 0
local pos = 9
for _ = 1, tonumber(ARGV[7]) do
  local n = tonumber(ARGV[pos])
  pos = pos + 1
  for _ = 1, n do
    local id = ARGV[pos]
    local seen = redis.call('HGET', ids, id)
    if not seen and tomb ~= '' then seen = redis.call('GET', tomb .. id) end
    if seen then
      out[#out + 1] = -tonumber(seen)
    else
      head = head + 1
      if ARGV[pos + 4] == '' then
        redis.call('XADD', events, head .. '-0', 'i', id, 't', ARGV[pos + 1], 'm', ARGV[pos + 2], 'd', ARGV[pos + 3])
      else
        redis.call('XADD', events, head .. '-0', 'i', id, 't', ARGV[pos + 1], 'm', ARGV[pos + 2], 'd', ARGV[pos + 3],
          'c', ARGV[pos + 4])
      end
      redis.call('HSET', ids, id, head)
      if firstNew == 0 then firstNew = head end
      if items then
        local time, data, trace = ARGV[pos + 2], ARGV[pos + 3], ARGV[pos + 4]
        size = size + #id + #ARGV[pos + 1] + #time + #data + #trace + 48
        -- A time that is not a plain number would break the announcement's JSON: positions only.
        if size > bound or not string.match(time, '^%-?%d+%.?%d*$') then
          items = nil
        else
          if trace == '' then trace = 'null' else trace = cjson.encode(trace) end
          items[#items + 1] = '[' .. head .. ',' .. cjson.encode(id) .. ',' .. cjson.encode(ARGV[pos + 1]) .. ','
            .. time .. ',' .. data .. ',' .. trace .. ']'
        end
      end
      out[#out + 1] = head
    end
    pos = pos + 5
  end
end
if firstNew > 0 then
  if fresh then redis.call('HSET', meta, 'epoch', epoch, 'first', 1, 'createdAt', now) end
  redis.call('HSET', meta, 'head', head, 'updatedAt', now)
  redis.call('ZADD', index, now, stream)
  local header = cjson.encode({ ARGV[4], stream, firstNew, head, epoch })
  if items then header = header .. '\\n[' .. table.concat(items, ',') .. ']' end
  redis.call('PUBLISH', ARGV[3], header)
end
return out
`,
);

/**
 * Reads a stream's position and the events after a seq in one consistent view.
 * KEYS: meta, events, epoch. ARGV: afterSeq, limit (0 = position only).
 * Returns: { epoch or false, head, first, entries } where entries is the XRANGE reply.
 * Writes nothing: a missing deployment epoch is created by the caller, outside this script.
 */
export const READ = script(
  'read',
  3,
  `
local m = redis.call('HMGET', KEYS[1], 'epoch', 'head', 'first')
if not m[1] then return { redis.call('GET', KEYS[3]), 0, 1, {} } end
local head, first = tonumber(m[2]), tonumber(m[3])
local after, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local entries = {}
if limit > 0 and after < head then
  local start = after + 1
  if start < first then start = first end
  entries = redis.call('XRANGE', KEYS[2], start .. '-0', '+', 'COUNT', limit)
end
return { m[1], head, first, entries }
`,
);

/**
 * Drops a bounded chunk of a stream's oldest events, so trimming a long history never blocks Redis
 * for long; the caller repeats until nothing is left to drop. Each chunk leaves a consistent state.
 * KEYS: meta, events, ids. ARGV: throughSeq, max events this call, tombstone prefix ('' = none),
 * dedupe window ms, now.
 * Returns: { events dropped, 1 when more remain to drop else 0 }.
 */
export const TRIM = script(
  'trim',
  3,
  `
local m = redis.call('HMGET', KEYS[1], 'head', 'first')
if not m[1] then return { 0, 0 } end
local head, first = tonumber(m[1]), tonumber(m[2])
local through = tonumber(ARGV[1])
if through > head then through = head end
if through < first then return { 0, 0 } end
local stop = first + tonumber(ARGV[2]) - 1
if stop > through then stop = through end
local entries = redis.call('XRANGE', KEYS[2], first .. '-0', stop .. '-0')
local tomb, window, now = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
for _, entry in ipairs(entries) do
  local f = entry[2]
  local id, time = f[2], tonumber(f[6])
  redis.call('HDEL', KEYS[3], id)
  -- With a dedupe window, a trimmed id stays known until the window after its append is over.
  if tomb ~= '' and time then
    local ttl = math.floor(time + window - now)
    if ttl > 0 then redis.call('SET', tomb .. id, string.match(entry[1], '^%d+'), 'PX', ttl) end
  end
end
redis.call('XTRIM', KEYS[2], 'MINID', (stop + 1) .. '-0')
redis.call('HSET', KEYS[1], 'first', stop + 1)
local more = 0
if stop < through then more = 1 end
return { #entries, more }
`,
);

/**
 * Runs a script by its hash and loads it on first use (or after Redis restarted and forgot it).
 * Callers keep at most one script call per stream in flight, so the retry cannot reorder a stream.
 */
export async function runScript(
  redis: Redis,
  lua: LuaScript,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(lua.sha, lua.keys, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(lua.source, lua.keys, ...keys, ...args);
  }
}
