import { Redis } from 'ioredis';

/** Deletes every key under `prefix`: what a test run (or a whole deployment) wrote to Redis. */
export async function wipeRedisPrefix(url: string, prefix: string): Promise<number> {
  if (prefix === '') throw new Error('Refusing to wipe a whole Redis: give a prefix.');
  const redis = new Redis(url);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** Calls per command so far, from INFO commandstats (commands run by scripts included). */
export async function redisCommandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) calls.set(m[1]!, Number(m[2]));
  }
  return calls;
}
