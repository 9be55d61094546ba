import { resolve } from 'node:path';
import { mintToken, readSecret, type MintClaims } from '@agentwire/server';
import { dataSpec } from '../local-token.js';
import { helpText, parseDuration, parseOptions, UsageError, type OptionSpecs } from '../options.js';

const specs: OptionSpecs = {
  data: dataSpec,
  role: {
    type: 'string',
    description: 'viewer, operator or admin (default viewer; with --publish none: it publishes only)',
  },
  publish: {
    type: 'boolean',
    description: 'A producer token (publish scope); it also watches only with --role',
  },
  project: { type: 'string', multiple: true, description: 'Project pattern the token may touch, repeatable' },
  stream: {
    type: 'string',
    multiple: true,
    description: 'Stream pattern the token may touch (task:*), repeatable',
  },
  sub: { type: 'string', default: 'cli', description: 'Subject (who the token speaks for)' },
  ttl: { type: 'string', default: '1h', description: 'Lifetime, e.g. 15m, 12h, 7d' },
};

export const tokenHelp = helpText(
  'agentwire token [options]',
  "Mint a token signed with the local gateway's secret (<data>/auth-secret): for the dashboard, tail, or your own agent (--publish).",
  specs,
);

const roles = ['viewer', 'operator', 'admin'] as const;

export async function token(argv: string[]): Promise<void> {
  const { values } = parseOptions(argv, specs);
  if (values.help) {
    process.stdout.write(tokenHelp);
    return;
  }
  const dataDir = resolve(String(values.data));
  const secret = readSecret(dataDir);
  if (secret === undefined) {
    throw new UsageError(
      `No secret in ${dataDir}/auth-secret: start the gateway there first, or pass --data.`,
    );
  }
  const publish = values.publish === true;
  const role = typeof values.role === 'string' ? values.role : publish ? undefined : 'viewer';
  if (role !== undefined && !roles.includes(role as never))
    throw new UsageError(`--role must be one of ${roles.join(', ')}.`);
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : undefined);
  const projects = list(values.project);
  const streams = list(values.stream);
  const claims: MintClaims = {
    sub: String(values.sub),
    ...(role !== undefined && { role: role as MintClaims['role'] & string }),
    ...(publish && { scope: ['publish'] }),
    ...(projects && { projects }),
    ...(streams && { streams }),
  };
  // A token without patterns would reach nothing; an unscoped local token means "everywhere" (to
  // publish, for a producer token without a role: reading takes a role).
  if (role !== 'admin' && !projects && !streams) claims.streams = ['*'];
  process.stdout.write(`${await mintToken(secret, claims, parseDuration(String(values.ttl)) / 1000)}\n`);
}
