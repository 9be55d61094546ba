import { SignJWT } from 'jose';
import type { Role } from './principal.js';

export interface MintClaims {
  sub: string;
  role?: Role;
  streams?: string[];
  projects?: string[];
  /** OAuth-style scopes; `publish` makes a producer token. */
  scope?: string[];
  issuer?: string;
  audience?: string;
  /** With role admin: not counted against the per-user connection limit (the dashboard link). */
  uncapped?: boolean;
}

/**
 * Signs an HS256 token with the gateway's shared secret: the CLI's dashboard link, `agentwire
 * token`, and tests. Identity providers mint tokens in production; this is for the gateway's own.
 */
export async function mintToken(secret: string, claims: MintClaims, ttlSeconds: number): Promise<string> {
  const payload: Record<string, unknown> = {};
  if (claims.role !== undefined) payload.role = claims.role;
  if (claims.streams !== undefined) payload.streams = claims.streams;
  if (claims.projects !== undefined) payload.projects = claims.projects;
  if (claims.scope !== undefined) payload.scope = claims.scope.join(' ');
  if (claims.uncapped === true) payload.uncapped = true;
  let jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + Math.max(1, Math.floor(ttlSeconds)));
  if (claims.issuer !== undefined) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience !== undefined) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
