export type { CommandRouter, CommandSender } from './commands.js';
export { ConfigError } from './config-error.js';
export {
  defaultLimits,
  DEFAULT_PORT,
  type EngineConfig,
  type GatewayOptions,
  type Limits,
} from './config.js';
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
export { dialectNames, isDialectName, type DialectName } from './dialects/dialect.js';
export {
  DEFAULT_SOCKETIO_PATHS,
  parseSocketIoPath,
  type SocketIoOptions,
  type SocketIoPath,
} from './transports/socketio.js';
export { acceptAnyToken, type Principal, type TokenContext, type TokenVerifier } from './transports/token.js';
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
