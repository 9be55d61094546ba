import type { LogEngine } from './engine.js';
import { MemoryEngine } from './memory.js';
import { SqliteEngine } from './sqlite.js';

export type EngineConfig =
  { kind: 'memory' } | { kind: 'sqlite'; path: string; synchronous?: 'normal' | 'full' };

/**
 * Opens the configured log engine. Async although today's engines open synchronously, so a
 * networked engine (Redis) can join without changing callers.
 */
export async function openEngine(config: EngineConfig): Promise<LogEngine> {
  switch (config.kind) {
    case 'memory':
      return new MemoryEngine();
    case 'sqlite':
      return new SqliteEngine(
        config.synchronous ? { path: config.path, synchronous: config.synchronous } : { path: config.path },
      );
  }
}
