import { readFileSync } from 'node:fs';
import { prepareDataDir } from './data-dir.js';
import { resolve } from 'node:path';
import {
  loadOrCreateSecret,
  mintToken,
  type ApiKeyConfig,
  type Gateway,
  type GatewayOptions,
} from '@agentwire/server';
import { parseDuration, parseInteger, UsageError, type OptionSpecs } from './options.js';

/**
 * Security flags of `serve` and `demo` (docs/security.md). The CLI is secure by default: without a
 * secret, JWKS or API key it generates a secret in the data folder and prints a dashboard link with
 * a short-lived admin token; running open takes `--insecure`.
 */
export const securitySpecs: OptionSpecs = {
  insecure: {
    type: 'boolean',
    env: 'AGENTWIRE_INSECURE',
    description: 'Run without authentication (anyone who reaches the port can read and steer everything)',
  },
  'auth-secret': {
    type: 'string',
    env: 'AGENTWIRE_AUTH_SECRET',
    description: 'HS256 secret (32+ characters) for tokens; default: generated in <data>/auth-secret (0600)',
  },
  jwks: {
    type: 'string',
    env: 'AGENTWIRE_JWKS',
    description: 'JWKS URL (https) or file for RS256/ES256 tokens from your identity provider',
  },
  'jwt-issuer': { type: 'string', env: 'AGENTWIRE_JWT_ISSUER', description: 'Required iss of tokens' },
  'jwt-audience': { type: 'string', env: 'AGENTWIRE_JWT_AUDIENCE', description: 'Required aud of tokens' },
  'api-key': {
    type: 'string',
    multiple: true,
    env: 'AGENTWIRE_API_KEYS',
    description:
      'Producer API key name:key or name:sha256:<hex>, repeatable (env: comma-separated); publishes anywhere. A key on the command line shows in ps: prefer --api-key-file or the env',
  },
  'api-key-file': {
    type: 'string',
    env: 'AGENTWIRE_API_KEY_FILE',
    description: 'File of producer API keys, one name:key or name:sha256:<hex> a line (# comments)',
  },
  'allowed-origin': {
    type: 'string',
    multiple: true,
    env: 'AGENTWIRE_ALLOWED_ORIGINS',
    description:
      'Origin whose pages may connect (https://app.example.com, or *), repeatable; default: own origin and localhost',
  },
  'public-url': {
    type: 'string',
    env: 'AGENTWIRE_PUBLIC_URL',
    description:
      'URL the gateway is reached at (https://agents.example.com): its host is served and its origin allowed',
  },
  'allowed-host': {
    type: 'string',
    multiple: true,
    env: 'AGENTWIRE_ALLOWED_HOSTS',
    description:
      'Host name requests may be addressed to (agents.example.com, .example.com, or *), repeatable; default: IP addresses, localhost and --host',
  },
  'max-connections-per-user': {
    type: 'string',
    env: 'AGENTWIRE_MAX_CONNECTIONS_PER_USER',
    default: '5',
    description: 'Concurrent connections per user (0 = no limit)',
  },
  'max-unauthenticated-per-address': {
    type: 'string',
    env: 'AGENTWIRE_MAX_UNAUTHENTICATED_PER_ADDRESS',
    default: '100',
    description: 'WebSockets from one address waiting to authenticate (0 = no limit)',
  },
  'max-unauthenticated': {
    type: 'string',
    env: 'AGENTWIRE_MAX_UNAUTHENTICATED',
    default: '1000',
    description: 'WebSockets waiting to authenticate, from all addresses (0 = no limit)',
  },
  'max-messages-per-second': {
    type: 'string',
    env: 'AGENTWIRE_MAX_MESSAGES_PER_SECOND',
    default: '100',
    description: 'Inbound messages per second per connection (0 = no limit)',
  },
  'max-ingest-rate': {
    type: 'string',
    env: 'AGENTWIRE_MAX_INGEST_RATE',
    default: '2000',
    description: 'Events per second per producer over HTTP (0 = no limit)',
  },
  'dashboard-token-ttl': {
    type: 'string',
    env: 'AGENTWIRE_DASHBOARD_TOKEN_TTL',
    default: '12h',
    description: 'Lifetime of the admin token in the printed dashboard link',
  },
};

export interface SecuritySetup {
  options: Pick<GatewayOptions, 'auth' | 'allowedOrigins' | 'allowedHosts' | 'publicUrl'> & {
    limits: NonNullable<GatewayOptions['limits']>;
  };
  /** Set when the gateway uses a secret the CLI holds: the dashboard link can carry a token. */
  secret?: string;
  secretFile?: string;
  secretCreated?: boolean;
  dashboardTtlSeconds: number;
  insecure: boolean;
  /** What the operator should hear once the gateway runs (a key visible in `ps`, a loose folder). */
  warnings: string[];
}

function list(value: string | boolean | undefined): string[] {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : [];
}

/** The gateway's own floor (auth/api-keys.ts), checked here to say which flag is wrong. */
const MIN_API_KEY_LENGTH = 24;

export function parseApiKey(spec: string, source = '--api-key'): ApiKeyConfig {
  const [name, ...rest] = spec.split(':');
  const value = rest.join(':');
  // Never echo the key itself: the name is enough to find it.
  if (!name || !value) throw new UsageError(`${source}: an entry is not name:key or name:sha256:<hex>.`);
  if (value.startsWith('sha256:')) {
    if (!/^[0-9a-f]{64}$/i.test(value.slice(7)))
      throw new UsageError(`${source}: the sha256 of API key ${name} must be 64 hex digits.`);
    return { name, sha256: value.slice(7) };
  }
  if (value.length < MIN_API_KEY_LENGTH)
    throw new UsageError(`${source}: API key ${name} is shorter than ${MIN_API_KEY_LENGTH} characters.`);
  return { name, key: value };
}

/** `--api-key-file`: one key a line, blank lines and `#` comments skipped. */
function readApiKeyFile(path: string): ApiKeyConfig[] {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (err) {
    throw new UsageError(`--api-key-file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}.`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line, i) => parseApiKey(line, `--api-key-file ${path} line ${i + 1}`));
}

/**
 * `argv`: the command line as typed, to tell a key given there (visible to every local user in
 * `ps`) from one in the environment or a file.
 */
export function securityOptions(
  values: Record<string, string | boolean | undefined>,
  dataDir: string,
  argv: readonly string[] = [],
): SecuritySetup {
  const str = (name: string) =>
    typeof values[name] === 'string' && values[name] !== '' ? String(values[name]) : undefined;
  const limits = {
    maxConnectionsPerUser: parseInteger(
      String(values['max-connections-per-user'] ?? '5'),
      'max-connections-per-user',
    ),
    maxUnauthenticatedPerAddress: parseInteger(
      String(values['max-unauthenticated-per-address'] ?? '100'),
      'max-unauthenticated-per-address',
    ),
    maxUnauthenticatedConnections: parseInteger(
      String(values['max-unauthenticated'] ?? '1000'),
      'max-unauthenticated',
    ),
    maxMessagesPerSecond: parseInteger(
      String(values['max-messages-per-second'] ?? '100'),
      'max-messages-per-second',
    ),
    maxIngestEventsPerSecond: parseInteger(String(values['max-ingest-rate'] ?? '2000'), 'max-ingest-rate'),
  };
  const origins = list(values['allowed-origin']);
  const hosts = list(values['allowed-host']);
  const publicUrl = str('public-url');
  if (publicUrl !== undefined && !/^https?:\/\/[^/]/.test(publicUrl))
    throw new UsageError('--public-url must be an http:// or https:// URL.');
  const dashboardTtlSeconds = Math.max(
    60,
    Math.round(parseDuration(String(values['dashboard-token-ttl'] ?? '12h')) / 1000),
  );
  const setup: SecuritySetup = {
    options: {
      limits,
      ...(origins.length > 0 && { allowedOrigins: origins }),
      ...(hosts.length > 0 && { allowedHosts: hosts }),
      ...(publicUrl !== undefined && { publicUrl }),
    },
    dashboardTtlSeconds,
    insecure: values.insecure === true,
    warnings: [],
  };
  if (setup.insecure) return setup;

  const apiKeys = list(values['api-key']).map((spec) => parseApiKey(spec));
  const keyFile = str('api-key-file');
  if (keyFile !== undefined) apiKeys.push(...readApiKeyFile(keyFile));
  const onCommandLine = argv.some((a) => a === '--api-key' || a.startsWith('--api-key='));
  if (onCommandLine && apiKeys.some((k) => k.key !== undefined))
    setup.warnings.push(
      '--api-key on the command line is visible to every local user (ps, /proc): use --api-key-file, AGENTWIRE_API_KEYS or name:sha256:<hex>',
    );
  const jwksArg = str('jwks');
  let jwks: NonNullable<GatewayOptions['auth']>['jwks'];
  if (jwksArg !== undefined) {
    if (/^https?:\/\//.test(jwksArg)) jwks = jwksArg;
    else {
      try {
        jwks = JSON.parse(readFileSync(resolve(jwksArg), 'utf8')) as typeof jwks;
      } catch (err) {
        throw new UsageError(`--jwks ${jwksArg}: ${(err as Error).message}`);
      }
    }
  }
  let secret = str('auth-secret');
  if (secret !== undefined && secret.length < 32)
    throw new UsageError('--auth-secret must be at least 32 characters.');
  // Secure by default: a secret of our own, unless tokens come from an identity provider only.
  if (secret === undefined && jwks === undefined) {
    setup.warnings.push(...prepareDataDir(dataDir));
    const loaded = loadOrCreateSecret(dataDir);
    secret = loaded.secret;
    setup.secretFile = loaded.path;
    setup.secretCreated = loaded.created;
  }
  if (secret !== undefined) setup.secret = secret;
  setup.options.auth = {
    ...(secret !== undefined && { secret }),
    ...(jwks !== undefined && { jwks }),
    ...(str('jwt-issuer') !== undefined && { issuer: str('jwt-issuer')! }),
    ...(str('jwt-audience') !== undefined && { audience: str('jwt-audience')! }),
    ...(apiKeys.length > 0 && { apiKeys }),
  };
  return setup;
}

const links = new WeakMap<Gateway, string>();

/**
 * After start: warns loudly when open, and prepares the dashboard link with a short-lived admin
 * token (the dashboard reads `?token=` and drops it from the address bar).
 */
export async function announceSecurity(gateway: Gateway, setup: SecuritySetup): Promise<void> {
  if (setup.insecure) {
    gateway.logger.warn(
      'running with --insecure: no authentication; anyone who reaches this port can read every task and steer agents',
    );
    return;
  }
  if (setup.secretCreated)
    gateway.logger.info({ file: setup.secretFile }, 'generated a token secret (keep this file private)');
  if (setup.secret === undefined) return;
  const auth = setup.options.auth;
  const token = await mintToken(
    setup.secret,
    {
      sub: 'dashboard-admin',
      role: 'admin',
      // Every tab opened from the link connects: one person's tabs are not a flood.
      uncapped: true,
      ...(typeof auth?.issuer === 'string' && { issuer: auth.issuer }),
      ...(typeof auth?.audience === 'string' && { audience: auth.audience }),
    },
    setup.dashboardTtlSeconds,
  );
  links.set(gateway, `${gateway.url}/?token=${token}`);
}

/** The dashboard's URL to print: with the admin token when there is one. */
export function dashboardUrl(gateway: Gateway): string {
  return links.get(gateway) ?? `${gateway.url}/`;
}
