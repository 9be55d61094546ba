export type * from './engine.js';
export { MemoryEngine, type MemoryEngineOptions } from './memory.js';
export { SqliteEngine, type SqliteEngineOptions, type SqliteEngineStats } from './sqlite.js';
export { openEngine, type EngineConfig } from './open.js';
