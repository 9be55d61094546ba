export { WsProbe } from './ws-probe.js';
export { requireService } from './services.js';
export { wipeRedisPrefix } from './redis.js';
export { matchesSchema } from './schema.js';
