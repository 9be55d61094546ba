import { createHash } from 'node:crypto';
import { compilePatterns, type Matcher } from './patterns.js';
import type { AuthPrincipal } from './principal.js';

/**
 * What a credential may publish, as plain data: the producer channel keeps it per producer, a
 * gateway node reports its workers' grants to the others, and two credentials are told apart by it.
 */
export type PublishGrant =
  'all' | { readonly streams: readonly string[]; readonly projects: readonly string[] };

const NOTHING: PublishGrant = { streams: [], projects: [] };

export function publishGrant(p: AuthPrincipal): PublishGrant {
  if (!p.publish) return NOTHING;
  return p.scope === 'all' ? 'all' : p.scope.granted;
}

/** Compiled grants by their text; grants come from a few credentials, so this stays small. */
const compiled = new Map<string, { streams: Matcher; projects: Matcher }>();
const MAX_COMPILED = 1_000;

/**
 * Whether a producer holding `grant` may publish the `task:start` of the new task `stream` in
 * `projectId`: the rule `AccessPolicy.assertPublish` applies to that event, so a start goes only to
 * a worker that can carry it out.
 */
export function grantAllowsStart(
  grant: PublishGrant | undefined,
  stream: string,
  projectId: string | undefined,
): boolean {
  if (grant === 'all') return true;
  // Grants also arrive in other nodes' reports: anything not shaped like one grants nothing.
  if (typeof grant !== 'object' || grant === null) return false;
  if (!Array.isArray(grant.streams) || !Array.isArray(grant.projects)) return false;
  const key = JSON.stringify(grant);
  let m = compiled.get(key);
  if (!m) {
    try {
      m = {
        streams: compilePatterns(grant.streams, 'streams'),
        projects: compilePatterns(grant.projects, 'projects'),
      };
    } catch {
      return false; // a grant another node reported that no credential here could hold
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, m);
  }
  return m.streams(stream) || (projectId !== undefined && m.projects(projectId));
}

/**
 * Who a producer is, for binding its `producerId`: the kind of credential, its subject and what it
 * may publish, hashed. A refreshed token of the same subject and scope is the same producer;
 * any other credential is not.
 */
export function producerIdentity(p: AuthPrincipal): string {
  const grant = publishGrant(p);
  const scope =
    grant === 'all' ? 'all' : { streams: [...grant.streams].sort(), projects: [...grant.projects].sort() };
  return identityOf([p.kind, p.subject ?? null, scope]);
}

/** The identity of a producer that is no credential's: in-process, or a broker user over AMQP. */
export function identityOf(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}
