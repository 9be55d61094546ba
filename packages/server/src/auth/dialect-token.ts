/** Who is on the other end of a dialect connection, as far as its token tells. */
export interface TokenIdentity {
  /** The verified user or service, once a verifier knows it. */
  subject?: string;
  /** The token as presented, kept so later checks (expiry, scopes) can see it. */
  token?: string;
  claims?: Record<string, unknown>;
}

export interface TokenContext {
  /** `socketio` for Socket.IO paths, `websocket` / `http` for seed 004's terminal and its polling. */
  transport: 'socketio' | 'websocket' | 'http';
  dialect: string;
  path: string;
}

/**
 * Checks the token a dialect client presents (Socket.IO `auth: {token}`, `?token=…`, or an
 * `Authorization: Bearer` header). Resolve with the identity to accept; throw an AgentwireError
 * (`unauthorized`, `token_expired`, `forbidden`) to refuse. With auth on, the gateway verifies
 * these tokens like every other credential and this option is not used; without, it is the
 * gateway's `verifyDialectToken`, and the default `acceptAnyToken` records the token and lets
 * everyone in, as the seed servers did.
 */
export type TokenVerifier = (
  token: string | undefined,
  context: TokenContext,
) => TokenIdentity | Promise<TokenIdentity>;

export const acceptAnyToken: TokenVerifier = (token) => (token === undefined ? {} : { token });

/** @deprecated Renamed `TokenIdentity`; `AuthPrincipal` is the authenticated caller. */
export type Principal = TokenIdentity;
