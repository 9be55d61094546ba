export type * from './engine.js';
export { MemoryEngine, type MemoryEngineOptions } from './memory.js';
export { SqliteEngine, type SqliteEngineOptions, type SqliteEngineStats } from './sqlite.js';
export { RedisEngine, type RedisEngineOptions, type RedisEngineStats } from './redis.js';
export { openEngine, type EngineConfig, type EngineHooks } from './open.js';
