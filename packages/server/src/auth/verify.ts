import { AgentwireError } from '@agentwire/protocol';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { ConfigError } from '../config-error.js';
import { ApiKeys } from './api-keys.js';
import { defaultClaimNames, type AuthOptions, type ClaimNames } from './options.js';
import { listClaim } from './patterns.js';
import { roles, type AuthPrincipal, type Role } from './principal.js';
import { restrictedScope } from './scope.js';

/** Longer than any sane JWT; a bigger "token" is refused before any parsing. */
const MAX_TOKEN_LENGTH = 16_384;
const MIN_SECRET_LENGTH = 32;

/**
 * Turns a presented credential into a principal, or throws `unauthorized` / `token_expired`.
 * API keys are looked up first (they are not JWTs); everything else must be a JWT signed with the
 * shared secret (HS256) or a key of the JWKS (RS256/ES256), carrying `sub` and, by default, `exp`.
 */
export class CredentialVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly apiKeys: ApiKeys;
  private readonly claims: ClaimNames;
  private readonly hmacAlgorithms: string[];
  private readonly keyAlgorithms: string[];

  constructor(private readonly options: AuthOptions) {
    if (options.secret !== undefined) {
      if (options.secret.length < MIN_SECRET_LENGTH) {
        throw new ConfigError(`auth.secret must be at least ${MIN_SECRET_LENGTH} characters.`);
      }
      this.secret = new TextEncoder().encode(options.secret);
    }
    if (typeof options.jwks === 'string') {
      let url: URL;
      try {
        url = new URL(options.jwks);
      } catch {
        throw new ConfigError('auth.jwks must be a URL or a key set.');
      }
      if (url.protocol !== 'https:' && !isLoopback(url.hostname)) {
        throw new ConfigError('auth.jwks must be an https URL (or http on localhost).');
      }
      this.jwks = createRemoteJWKSet(url, { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    } else if (options.jwks !== undefined) {
      this.jwks = createLocalJWKSet(options.jwks);
    }
    this.apiKeys = new ApiKeys(options.apiKeys ?? []);
    if (!this.secret && !this.jwks && this.apiKeys.size === 0) {
      throw new ConfigError('auth needs a secret, a JWKS or at least one API key.');
    }
    this.claims = { ...defaultClaimNames, ...options.claims };
    const algorithms = options.algorithms;
    this.hmacAlgorithms = algorithms?.filter((a) => a.startsWith('HS')) ?? ['HS256'];
    this.keyAlgorithms = algorithms?.filter((a) => !a.startsWith('HS')) ?? ['RS256', 'ES256'];
  }

  async verify(credential: string | undefined): Promise<AuthPrincipal> {
    if (credential === undefined || credential === '') {
      throw new AgentwireError('unauthorized', 'A token or API key is required.');
    }
    if (credential.length > MAX_TOKEN_LENGTH)
      throw new AgentwireError('unauthorized', 'The token is too long.');
    const key = this.apiKeys.match(credential);
    if (key) return key;
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(credential).alg;
    } catch {
      throw new AgentwireError('unauthorized', 'The credential is neither a known API key nor a JWT.');
    }
    const hmac = typeof alg === 'string' && alg.startsWith('HS');
    const key2 = hmac ? this.secret : this.jwks;
    const algorithms = hmac ? this.hmacAlgorithms : this.keyAlgorithms;
    if (!key2 || algorithms.length === 0) {
      throw new AgentwireError(
        'unauthorized',
        `Tokens signed with ${String(alg).slice(0, 16)} are not accepted here.`,
      );
    }
    let payload: JWTPayload;
    try {
      const result = await jwtVerify(credential, key2 as Parameters<typeof jwtVerify>[1], {
        algorithms,
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
        requiredClaims: this.options.requireExpiry === false ? ['sub'] : ['sub', 'exp'],
        ...(this.options.issuer !== undefined && { issuer: this.options.issuer }),
        ...(this.options.audience !== undefined && { audience: this.options.audience }),
      });
      payload = result.payload;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new AgentwireError('token_expired');
      if (err instanceof errors.JOSEError) {
        throw new AgentwireError('unauthorized', `The token was refused (${err.code}).`);
      }
      throw new AgentwireError('unauthorized', 'The token could not be verified.');
    }
    return this.principalOf(payload, credential);
  }

  /** Reads the access claims; a claim of the wrong shape refuses the token rather than widening it. */
  private principalOf(payload: JWTPayload, token: string): AuthPrincipal {
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '' || sub.length > 256) {
      throw new AgentwireError('unauthorized', 'The token needs a sub of 1-256 characters.');
    }
    const scopes = listClaim(payload[this.claims.scope] ?? payload.scp, this.claims.scope) ?? [];
    const publish = scopes.includes('publish');
    const rawRole = payload[this.claims.role];
    // A producer token watches only when it names a role, like an API key: publishing must not
    // bring the right to read every stream it may write to.
    let role: Role | undefined = publish ? undefined : 'viewer';
    if (rawRole !== undefined) {
      if (!roles.includes(rawRole as Role)) {
        throw new AgentwireError(
          'unauthorized',
          `The ${this.claims.role} claim must be one of ${roles.join(', ')}.`,
        );
      }
      role = rawRole as Role;
    }
    const streams = listClaim(payload[this.claims.streams], this.claims.streams);
    const projects = listClaim(payload[this.claims.projects], this.claims.projects);
    // No stream or project claim: an admin reaches everything, anyone else nothing (least privilege).
    const scope =
      streams === undefined && projects === undefined
        ? role === 'admin'
          ? 'all'
          : restrictedScope([], [])
        : restrictedScope(streams ?? [], projects ?? [], this.claims);
    return {
      kind: 'token',
      subject: sub,
      token,
      claims: payload as Record<string, unknown>,
      role,
      scope,
      publish,
      ...(role === 'admin' && payload.uncapped === true && { uncapped: true }),
      // The connection ends when verification would start refusing the token, tolerance included.
      ...(typeof payload.exp === 'number' && {
        expiresAt: (payload.exp + (this.options.clockToleranceSeconds ?? 5)) * 1000,
      }),
    };
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}
