import type { LogEngine } from './engine.js';
import { MemoryEngine } from './memory.js';
import { RedisEngine } from './redis.js';
import { SqliteEngine } from './sqlite.js';

/** Which log engine a gateway stores events in, and its settings. */
export type EngineConfig =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string; synchronous?: 'normal' | 'full'; checkpointIntervalMs?: number }
  /**
   * Several gateway nodes sharing one Redis under one prefix form a cluster (docs/scaling.md);
   * `url` may name a Sentinel deployment, and `waitReplicas`/`waitTimeoutMs` make every
   * acknowledged event wait for replicas (`RedisEngineOptions`).
   */
  | {
      kind: 'redis';
      url: string;
      prefix?: string;
      dedupeWindowMs?: number;
      waitReplicas?: number;
      waitTimeoutMs?: number;
      announceMaxBytes?: number;
      /** How long one Redis command may take before it fails with `storage_unavailable`. Default 5000. */
      commandTimeoutMs?: number;
    }
  /** An engine of your own, already open; the gateway closes it when it closes. */
  | { kind: 'custom'; engine: LogEngine };

export interface EngineHooks {
  /** Networked engines: the connection to the storage failed or dropped (it reconnects by itself). */
  onConnectionError?: (err: Error) => void;
}

/**
 * Opens the configured log engine. Async although today's engines open synchronously, so a
 * networked engine (Redis) can join without changing callers.
 */
export async function openEngine(config: EngineConfig, hooks: EngineHooks = {}): Promise<LogEngine> {
  switch (config.kind) {
    case 'custom':
      return config.engine;
    case 'memory':
      return new MemoryEngine();
    case 'sqlite':
      return new SqliteEngine({
        path: config.path,
        ...(config.synchronous && { synchronous: config.synchronous }),
        ...(config.checkpointIntervalMs !== undefined && {
          checkpointIntervalMs: config.checkpointIntervalMs,
        }),
      });
    case 'redis':
      return RedisEngine.open({
        url: config.url,
        ...(config.prefix !== undefined && { prefix: config.prefix }),
        ...(config.dedupeWindowMs !== undefined && { dedupeWindowMs: config.dedupeWindowMs }),
        ...(config.waitReplicas !== undefined && { waitReplicas: config.waitReplicas }),
        ...(config.waitTimeoutMs !== undefined && { waitTimeoutMs: config.waitTimeoutMs }),
        ...(config.announceMaxBytes !== undefined && { announceMaxBytes: config.announceMaxBytes }),
        ...(config.commandTimeoutMs !== undefined && { commandTimeoutMs: config.commandTimeoutMs }),
        ...(hooks.onConnectionError && { onConnectionError: hooks.onConnectionError }),
      });
  }
}
