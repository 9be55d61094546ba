export { WsProbe } from './ws-probe.js';
export { requireService } from './services.js';
export { wipeRedisPrefix, redisCommandCalls } from './redis.js';
export { matchesSchema } from './schema.js';
export { startRedisServer, requireRedisServer, waitForRedis, freePort } from './redis-server.js';
export type { RedisServer, RedisServerOptions } from './redis-server.js';
export { startSentinelSet, requireRedisSentinel } from './redis-sentinel.js';
export type { SentinelSet, SentinelSetOptions } from './redis-sentinel.js';
