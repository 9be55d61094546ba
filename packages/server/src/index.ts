export type { CommandRouter, CommandSender } from './commands.js';
export { ConfigError } from './config-error.js';
export { DEFAULT_PORT, type GatewayOptions } from './gateway-options.js';
export { defaultLimits, type Limits } from './limits/limits.js';
export type { EngineConfig } from './log/open.js';
export { defaultCoalesce, type CoalesceOptions } from './hub/coalesce.js';
export { createGateway, type Gateway, type GatewayCloseOptions } from './gateway.js';
export type {
  AppendBatchResult,
  AppendInput,
  AppendResult,
  LogEngine,
  ReadResult,
  RetentionPolicy,
  StreamHead,
  StreamInfo,
} from './log/engine.js';
export { openEngine } from './log/index.js';
export { parseRedisUrl, type RedisTarget, type SentinelTarget } from './log/redis-connection.js';
export { dialectNames, isDialectName, type DialectName } from './surfaces/dialect.js';
export {
  DEFAULT_SOCKETIO_PATHS,
  parseSocketIoPath,
  type SocketIoOptions,
  type SocketIoPath,
} from './surfaces/socketio/socketio-paths.js';
export {
  acceptAnyToken,
  type TokenContext,
  type Principal,
  type TokenIdentity,
  type TokenVerifier,
} from './auth/dialect-token.js';
export { defaultProducerOptions, type ProducerOptions } from './producers/options.js';
export type { ProducerRegistry } from './producers/registry.js';
export {
  apiKeyDigest,
  loadOrCreateSecret,
  mintToken,
  readSecret,
  SECRET_FILE,
  type ApiKeyConfig,
  type AuthOptions,
  type AuthPrincipal,
  type ClaimNames,
  type MintClaims,
  type Role,
} from './auth/index.js';
