export { apiKeyDigest } from './api-keys.js';
export { mintToken, type MintClaims } from './mint.js';
export type { ApiKeyConfig, AuthOptions, ClaimNames } from './options.js';
export type { AuthPrincipal, Role, Scope } from './principal.js';
export { loadOrCreateSecret, readSecret, SECRET_FILE } from './secret-file.js';
export { Security } from './security.js';
