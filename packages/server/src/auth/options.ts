import type { JSONWebKeySet } from 'jose';
import type { Role } from './principal.js';

/** Where the claims live in a token, for identity providers that namespace custom claims. */
export interface ClaimNames {
  /** Default `role`: viewer, operator or admin. */
  role: string;
  /** Default `streams`: stream patterns such as `task:*`, `project:acme`. */
  streams: string;
  /** Default `projects`: project id patterns; their tasks and `project:<id>` streams. */
  projects: string;
  /** Default `scope` (OAuth: space-separated); `publish` lets the token ingest events. */
  scope: string;
}

export const defaultClaimNames: ClaimNames = {
  role: 'role',
  streams: 'streams',
  projects: 'projects',
  scope: 'scope',
};

/** A producer credential configured on the gateway (docs/security.md). */
export interface ApiKeyConfig {
  /** A name for logs and for the `by` of what it publishes; the principal's subject is `key:<name>`. */
  name: string;
  /** The key itself (at least 24 characters), or instead its SHA-256 in hex so the config holds no secret. */
  key?: string;
  sha256?: string;
  /** Stream patterns it may publish to; with neither this nor `projects` it may publish anywhere. */
  streams?: string[];
  projects?: string[];
  /** Watcher rights as well, if any (default none: the key only publishes). */
  role?: Role;
}

/**
 * Authentication for every transport. Without `auth` the gateway is open (the in-process default,
 * for tests and embedding); `agentwire serve` turns it on unless started with `--insecure`.
 */
export interface AuthOptions {
  /** HS256 shared secret, at least 32 characters. */
  secret?: string;
  /** RS256/ES256 keys: a JWKS URL (fetched and cached by `jose`) or the key set itself. */
  jwks?: string | JSONWebKeySet;
  /** Required `iss`, if set. */
  issuer?: string | string[];
  /** Required `aud`, if set. */
  audience?: string | string[];
  /** Accepted algorithms. Default HS256 with `secret`, RS256 and ES256 with `jwks`. */
  algorithms?: string[];
  /** Clock skew tolerated on `exp` and `nbf`, in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** Refuse tokens without `exp`. Default true: a leaked token must not work forever. */
  requireExpiry?: boolean;
  /** Producer API keys, presented as `Authorization: Bearer <key>` or `X-Api-Key`. */
  apiKeys?: ApiKeyConfig[];
  claims?: Partial<ClaimNames>;
  /** Accept `?token=` (seed 004's terminal needs it; it ends up in proxy logs). Default true. */
  queryToken?: boolean;
  /** How long a WebSocket without a token may take to send `{op:"auth"}`, in ms. Default 10 s. */
  authTimeoutMs?: number;
}
