import type { TokenIdentity } from './dialect-token.js';
import type { Matcher } from './patterns.js';

/** What a watcher may do: viewer watches, operator also steers, admin also sees the gateway itself. */
export type Role = 'viewer' | 'operator' | 'admin';
export const roles: readonly Role[] = ['viewer', 'operator', 'admin'];

const rank: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function atLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && rank[role] >= rank[needed];
}

/**
 * Which streams a principal reaches: every one (`all`), or those its `streams` patterns match plus
 * the `project:<id>` streams and tasks of projects its `projects` patterns match.
 */
export type Scope =
  | 'all'
  | {
      streams: Matcher;
      projects: Matcher;
      /** The patterns behind the matchers, as granted: what credentials are compared by. */
      granted: { readonly streams: readonly string[]; readonly projects: readonly string[] };
    };

/** A caller after authentication: who, with which role, over which streams, and until when. */
export interface AuthPrincipal extends TokenIdentity {
  /** `open`: a gateway without auth; `token`: a verified JWT; `api-key`: a configured producer key. */
  readonly kind: 'open' | 'token' | 'api-key';
  /** Watcher rights; undefined for credentials that only publish (API keys by default). */
  readonly role: Role | undefined;
  readonly scope: Scope;
  /** May publish events (HTTP ingest, the producer channel). */
  readonly publish: boolean;
  /** When the credential stops being valid, in ms since the epoch. */
  readonly expiresAt?: number;
  /**
   * Not counted against the per-user connection limit: an admin token carrying `uncapped: true`,
   * as the dashboard link the CLI prints does, so every tab a person opens from it connects.
   */
  readonly uncapped?: boolean;
}

/** Everyone, when the gateway runs without auth (tests, `--insecure`). */
export const OPEN_PRINCIPAL: AuthPrincipal = Object.freeze({
  kind: 'open',
  role: 'admin',
  scope: 'all',
  publish: true,
});
