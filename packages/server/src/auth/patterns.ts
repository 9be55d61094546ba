import { AgentwireError } from '@agentwire/protocol';

/** Most patterns one claim may carry; a token is refused rather than matched slowly. */
export const MAX_PATTERNS = 256;
const MAX_PATTERN_LENGTH = 256;
const PATTERN = /^[A-Za-z0-9._~:*-]+$/;

export type Matcher = (value: string) => boolean;

export const matchNothing: Matcher = () => false;

/**
 * Compiles glob patterns (`task:*`, `project:acme`, `acme-*`, `*`) into one matcher. `*` matches
 * any run of characters, everything else matches itself. Patterns come from tokens, so they are
 * checked strictly: an odd character or too many patterns refuse the token (`unauthorized`) instead
 * of being guessed at.
 */
export function compilePatterns(patterns: readonly string[], claim: string): Matcher {
  if (patterns.length === 0) return matchNothing;
  if (patterns.length > MAX_PATTERNS) {
    throw new AgentwireError('unauthorized', `The ${claim} claim lists more than ${MAX_PATTERNS} patterns.`);
  }
  const exact = new Set<string>();
  const globs: string[] = [];
  for (const p of patterns) {
    if (p.length > MAX_PATTERN_LENGTH || !PATTERN.test(p)) {
      throw new AgentwireError('unauthorized', `The ${claim} claim has an invalid pattern.`);
    }
    if (p === '*') return () => true;
    if (p.includes('*')) globs.push(p.split('*').map(escape).join('.*'));
    else exact.add(p);
  }
  const regex = globs.length === 0 ? undefined : new RegExp(`^(?:${globs.join('|')})$`);
  return (value) => exact.has(value) || (regex !== undefined && regex.test(value));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A claim that may be a list or one space- or comma-separated string; anything else is refused. */
export function listClaim(value: unknown, claim: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((s) => s !== '');
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new AgentwireError('unauthorized', `The ${claim} claim must be a string or a list of strings.`);
}
