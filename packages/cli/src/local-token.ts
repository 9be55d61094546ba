import { resolve } from 'node:path';
import { mintToken, readSecret, type MintClaims } from '@agentwire/server';
import type { OptionSpec, OptionSpecs } from './options.js';

/**
 * Local tools trust whoever can read the gateway's secret file, the way a database CLI trusts a
 * local socket: with no --token, `tail`, `publish` and `token` mint their own short-lived token
 * from `<data>/auth-secret`. Against a remote gateway, pass --token.
 */
export const dataSpec: OptionSpec = {
  type: 'string',
  short: 'd',
  env: 'AGENTWIRE_DATA',
  default: './agentwire-data',
  description: 'Data folder of a local gateway; its auth-secret mints a token when --token is absent',
};

/** How long a locally minted token lives; the client SDK asks for a fresh one before it expires. */
export const LOCAL_TOKEN_TTL_SECONDS = 3600;

export function explicitToken(
  values: Record<string, string | boolean | string[] | undefined>,
): string | undefined {
  const token = values.token;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/** A minter for `claims` if the data folder holds a secret, else undefined (the gateway may be open). */
export function localMinter(dataDir: string, claims: MintClaims): (() => Promise<string>) | undefined {
  const secret = readSecret(resolve(dataDir));
  if (secret === undefined) return undefined;
  return () => mintToken(secret, claims, LOCAL_TOKEN_TTL_SECONDS);
}

/** The options every command that talks to a running gateway shares: where it is, and as whom. */
export function gatewayClientSpecs(tokenDescription: string): OptionSpecs {
  return {
    url: {
      type: 'string',
      short: 'u',
      env: 'AGENTWIRE_URL',
      default: 'http://localhost:7070',
      description: 'Gateway URL',
    },
    token: { type: 'string', env: 'AGENTWIRE_TOKEN', description: tokenDescription },
    data: dataSpec,
  };
}
