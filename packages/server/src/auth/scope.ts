import { compilePatterns } from './patterns.js';
import type { Scope } from './principal.js';

/**
 * A restricted scope from the patterns a credential grants. The patterns are kept beside their
 * matchers: two credentials are compared by them, and they travel to other gateway nodes.
 */
export function restrictedScope(
  streams: readonly string[],
  projects: readonly string[],
  claims: { streams: string; projects: string } = { streams: 'streams', projects: 'projects' },
): Scope {
  return {
    streams: compilePatterns(streams, claims.streams),
    projects: compilePatterns(projects, claims.projects),
    granted: { streams: [...streams], projects: [...projects] },
  };
}
