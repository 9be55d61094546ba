import type { IncomingMessage } from 'node:http';
import { AgentwireError, type AnyEnvelope, type Command } from '@agentwire/protocol';
import type { CommandSender } from '../commands.js';
import type { Limits } from '../limits/limits.js';
import type { Sink } from '../hub/sink.js';
import { ConnectionLimiter } from '../limits/connection-limiter.js';
import { IngestLimiter } from '../limits/ingest-limiter.js';
import { PendingAuthLimiter } from '../limits/pending-auth-limiter.js';
import { RefusalTally } from '../limits/refusal-tally.js';
import type { SharedConnectionSlots, SharedIngestBuckets } from '../limits/shared.js';
import type { Logger } from '../logger.js';
import type { ProducerCredential } from '../producers/credential.js';
import type { TokenContext } from './dialect-token.js';
import { AccessPolicy } from './access.js';
import type { AuthOptions } from './options.js';
import { HostPolicy } from './hosts.js';
import { OriginPolicy } from './origins.js';
import type { TaskProjects } from './task-projects.js';
import { atLeast, OPEN_PRINCIPAL, type AuthPrincipal } from './principal.js';
import { producerIdentity, publishGrant } from './publish-grant.js';
import { requestCredential } from './request-credential.js';
import { Session, type SessionHooks } from './session.js';
import { CredentialVerifier } from './verify.js';

export interface SecurityOptions {
  auth: AuthOptions | undefined;
  allowedOrigins: readonly string[] | undefined;
  /** Host names served besides IP literals and localhost (docs/security.md); `*` serves any. */
  allowedHosts?: readonly string[];
  /** The gateway's public URL: its host is served and its origin is the gateway's own. */
  publicUrl?: string;
  limits: Limits;
  taskProjects: TaskProjects;
  logger: Logger;
}

/**
 * Everything the transports ask about security, behind one object the gateway creates: who a
 * credential is, what it may read, command and publish, which origins may connect, and the limits
 * per user, per connection and per producer. Without `auth` it answers "everyone, everything"
 * (the limits still apply), so an embedded or test gateway behaves as before.
 */
export class Security {
  readonly enabled: boolean;
  readonly origins: OriginPolicy;
  readonly access: AccessPolicy;
  readonly connections: ConnectionLimiter;
  /** What every limit refused, by code, for the metrics. */
  readonly refusals = new RefusalTally();
  /** Connections not authenticated yet, per source address and in all. */
  readonly unauthenticated: PendingAuthLimiter;
  private readonly verifier: CredentialVerifier | undefined;
  private readonly ingest: IngestLimiter;
  private readonly sinks = new WeakMap<Sink, Session | AuthPrincipal>();
  private readonly requests = new WeakMap<IncomingMessage, Promise<AuthPrincipal>>();
  private readonly warming = new Set<string>();
  private sharedErrorAt = 0;

  constructor(private readonly options: SecurityOptions) {
    this.enabled = options.auth !== undefined;
    this.verifier = options.auth ? new CredentialVerifier(options.auth) : undefined;
    const hosts = new HostPolicy(options.allowedHosts);
    if (options.publicUrl !== undefined) hosts.add(new URL(options.publicUrl).host);
    this.origins = new OriginPolicy(
      options.allowedOrigins,
      hosts,
      options.publicUrl === undefined ? [] : [options.publicUrl],
    );
    this.access = new AccessPolicy(options.taskProjects);
    const sharedError = (err: unknown) => this.sharedLimitFailed(err);
    this.connections = new ConnectionLimiter(
      () => options.limits.maxConnectionsPerUser,
      this.refusals,
      sharedError,
    );
    this.unauthenticated = new PendingAuthLimiter(() => ({
      perAddress: options.limits.maxUnauthenticatedPerAddress,
      total: options.limits.maxUnauthenticatedConnections,
    }));
    this.ingest = new IngestLimiter(
      options.limits.maxIngestEventsPerSecond,
      options.limits.ingestBurst,
      this.refusals,
      sharedError,
    );
  }

  /**
   * Keeps the per-user connection limit and the per-producer ingest rate for the whole cluster
   * (several nodes on one Redis) instead of per node.
   */
  shareLimits(shared: SharedConnectionSlots & SharedIngestBuckets): void {
    this.connections.share(shared);
    this.ingest.share(shared);
  }

  get limits(): Limits {
    return this.options.limits;
  }

  get authTimeoutMs(): number {
    return this.options.auth?.authTimeoutMs ?? 10_000;
  }

  get queryTokens(): boolean {
    return this.options.auth?.queryToken ?? true;
  }

  /** The principal of a credential; on an open gateway everyone is the open principal. */
  async authenticate(credential: string | undefined): Promise<AuthPrincipal> {
    if (!this.verifier) return OPEN_PRINCIPAL;
    return this.verifier.verify(credential);
  }

  /** The principal of an HTTP request, verified once per request however many routes ask. */
  principalOf(req: IncomingMessage, url: URL): Promise<AuthPrincipal> {
    let p = this.requests.get(req);
    if (!p) {
      p = this.authenticate(this.credentialOf(req, url));
      p.catch(() => {}); // a caller awaits it; this only keeps an unawaited copy from being "unhandled"
      this.requests.set(req, p);
    }
    return p;
  }

  credentialOf(req: IncomingMessage, url: URL): string | undefined {
    return requestCredential(req, url, this.queryTokens);
  }

  /** The `verifyToken` seam of the Socket.IO and seed-004 transports. */
  readonly verifyToken = (token: string | undefined, _context: TokenContext): Promise<AuthPrincipal> =>
    this.authenticate(token);

  /**
   * Holds a slot for a connection from `req` that will authenticate later, until the returned
   * release is called (on authentication or close); throws `too_many_connections` when the caps
   * are reached. Nothing to hold on an open gateway.
   */
  holdUnauthenticated(req: IncomingMessage): () => void {
    if (!this.enabled) return () => {};
    return this.unauthenticated.acquire(sourceAddress(req));
  }

  /** Whether `holdUnauthenticated` would refuse `req` now. */
  unauthenticatedFull(req: IncomingMessage): boolean {
    return this.enabled && this.unauthenticated.full(sourceAddress(req));
  }

  openSession(hooks: SessionHooks): Session {
    return new Session(this, hooks);
  }

  /** Ties a hub sink to its connection, so the hub's guard knows whose subscription it is. */
  bind(sink: Sink, who: Session | AuthPrincipal): void {
    this.sinks.set(sink, who);
  }

  /** The hub's guard: every subscription on every transport is checked here before it starts. */
  readonly guardRead = async (stream: string, sink: Sink): Promise<void> => {
    if (!this.enabled) return;
    const p = this.sinkPrincipal(sink);
    if (!p) throw new AgentwireError('unauthorized', 'This connection has not authenticated.');
    await this.access.assertRead(p, stream);
  };

  /**
   * The hub's filter for prefix (pattern) feeds, which must decide per committed batch without
   * waiting. A task whose owner is not known yet is withheld while its snapshot is read, so a
   * restricted watcher may miss the first live events of a task started before this process.
   */
  readonly filterPattern = (stream: string, sink: Sink): boolean => {
    if (!this.enabled) return true;
    const p = this.sinkPrincipal(sink);
    if (!p) return false;
    const verdict = this.access.mayReadNow(p, stream);
    if (verdict !== undefined) return verdict;
    this.warm(stream);
    return false;
  };

  /**
   * The producer channel's view of `p`: its identity (which owns the producer ids it says hello
   * with), what it may publish (which starts it may be given), and which tasks it may claim.
   */
  producerCredential(p: AuthPrincipal): ProducerCredential {
    return {
      identity: producerIdentity(p),
      grant: publishGrant(p),
      guard: async (streams) => {
        for (const stream of streams) await this.access.assertClaim(p, stream);
      },
    };
  }

  /**
   * The hub's check of a run of events about to reach a subscription: how many its subscriber may
   * see. A `task:start` moving the task to a project the subscriber may not read ends the run (and
   * the hub then ends the subscription with `forbidden`).
   */
  readonly visibleRun = (stream: string, events: readonly AnyEnvelope[], sink: Sink): number => {
    if (!this.enabled) return events.length;
    const p = this.sinkPrincipal(sink);
    return p ? this.readableRun(p, stream, events) : 0;
  };

  /** How many of `events` of `stream` `p` may read: all, or those before a move out of its reach. */
  readableRun(p: AuthPrincipal, stream: string, events: readonly AnyEnvelope[]): number {
    if (!this.enabled) return events.length;
    return this.options.taskProjects.visibleCount(stream, events, (project) =>
      this.access.mayReadOwned(p, stream, project),
    );
  }

  /** Checks a command before it reaches the router: the role, and the stream or project in scope. */
  async authorizeCommand(command: Command, sender: CommandSender): Promise<void> {
    if (!this.enabled) return;
    const p = sender.principal as AuthPrincipal | undefined;
    if (!p || p.kind === 'open') throw new AgentwireError('unauthorized', 'Commands need a credential.');
    await this.access.assertCommand(p, command);
  }

  /** Checks an ingest batch: the publish right, the stream in scope, the producer's rate. */
  async authorizePublish(p: AuthPrincipal, stream: string, events: readonly unknown[]): Promise<void> {
    if (!this.enabled) return;
    await this.access.assertPublish(p, stream, events);
    await this.ingest.admit(p.subject ?? 'anonymous', Math.max(1, events.length));
  }

  /**
   * `POST /v1/tasks` without a kind writes the task's `task:start` itself: an operator may (it is
   * how a person starts a task), as may a producer; either way within their projects, and never
   * over another project's task.
   */
  async authorizeCreateTask(p: AuthPrincipal, stream: string, event: unknown): Promise<void> {
    if (!this.enabled) return;
    await this.authorizePublish(atLeast(p.role, 'operator') ? { ...p, publish: true } : p, stream, [event]);
  }

  private sharedLimitFailed(err: unknown): void {
    // Once per outage, not once per connection: the log says the rest.
    const now = Date.now();
    if (now - this.sharedErrorAt < 30_000) return;
    this.sharedErrorAt = now;
    this.options.logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'cluster-wide limits unavailable; this node counts on its own',
    );
  }

  private sinkPrincipal(sink: Sink): AuthPrincipal | undefined {
    const who = this.sinks.get(sink);
    return who instanceof Session ? who.principal : who;
  }

  private warm(stream: string): void {
    if (this.warming.has(stream) || this.warming.size > 1000) return;
    this.warming.add(stream);
    this.options.taskProjects
      .owner(stream)
      .catch((err: unknown) => this.options.logger.debug({ err, stream }, 'task owner lookup failed'))
      .finally(() => this.warming.delete(stream));
  }
}

/** The peer's address as the socket sees it (behind a proxy, the proxy's: see docs/limits.md). */
function sourceAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}
