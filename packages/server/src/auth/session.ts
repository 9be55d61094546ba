import { AgentwireError } from '@agentwire/protocol';
import type { ConnectionLimiter } from '../limits/connection-limiter.js';
import { MessageLimiter, type Admission, type MessageLimits } from '../limits/message-limiter.js';
import type { RefusalTally } from '../limits/refusal-tally.js';
import type { AuthPrincipal } from './principal.js';

/** setTimeout's ceiling (about 24.8 days); a later expiry is re-armed when this fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a session asks of the gateway's security (`Security` is the one implementation). */
export interface SessionPolicy {
  readonly limits: MessageLimits;
  readonly refusals: RefusalTally;
  readonly connections: ConnectionLimiter;
  readonly authTimeoutMs: number;
  authenticate(credential: string | undefined): Promise<AuthPrincipal>;
}

export interface SessionHooks {
  /** Ends the connection with a typed error: an expired token, a missing `auth`, a flood. */
  end(err: AgentwireError): void;
}

/**
 * One long-lived connection's security state, whatever the transport: who it is (and until when),
 * its slot in the per-user connection limit, and its inbound rate limit. A transport creates one per
 * connection, asks it before handling each inbound message, and closes it when the connection ends.
 */
export class Session {
  private current: AuthPrincipal | undefined;
  private release: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly limiter: MessageLimiter;
  private closed = false;

  constructor(
    private readonly security: SessionPolicy,
    private readonly hooks: SessionHooks,
  ) {
    this.limiter = new MessageLimiter(security.limits, security.refusals);
  }

  get principal(): AuthPrincipal | undefined {
    return this.current;
  }

  /** Authenticates with the credential presented on connect (none on an open gateway is fine). */
  async start(credential: string | undefined): Promise<AuthPrincipal> {
    return this.adopt(await this.security.authenticate(credential));
  }

  /**
   * Waits for a credential sent after connecting (the native `auth` op): ends the connection with
   * `unauthorized` if none has been accepted within `authTimeoutMs`.
   */
  expectCredential(): void {
    this.arm(this.security.authTimeoutMs, () => {
      if (!this.current)
        this.hooks.end(new AgentwireError('unauthorized', 'No credential was presented in time.'));
    });
  }

  /** Takes a principal verified elsewhere (a Socket.IO handshake) and its connection slot. */
  async adopt(principal: AuthPrincipal): Promise<AuthPrincipal> {
    if (this.closed) throw new AgentwireError('unauthorized', 'The connection has ended.');
    if (this.current) return this.replace(principal);
    await this.holdSlot(principal);
    this.current = principal;
    this.scheduleExpiry();
    return principal;
  }

  /**
   * A fresh credential on an open connection: the same subject, a new expiry (and possibly new
   * rights, which apply to what is asked from now on). The old one stays in force if this fails.
   */
  async refresh(credential: string): Promise<AuthPrincipal> {
    const next = await this.security.authenticate(credential);
    return this.current ? this.replace(next) : this.adopt(next);
  }

  admit(): Admission {
    return this.limiter.admit();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.release?.();
    this.release = undefined;
  }

  private async replace(next: AuthPrincipal): Promise<AuthPrincipal> {
    if (next.subject !== this.current?.subject || next.kind !== this.current?.kind) {
      throw new AgentwireError('forbidden', 'A refreshed credential must be for the same subject.');
    }
    await this.holdSlot(next);
    this.current = next;
    this.scheduleExpiry();
    return next;
  }

  /** Takes a slot in the per-user limit, or gives it back, as the credential now in force says. */
  private async holdSlot(principal: AuthPrincipal): Promise<void> {
    const counted = principal.subject !== undefined && principal.kind !== 'open' && !principal.uncapped;
    if (counted && !this.release) {
      // The slot may be counted cluster-wide, which takes a Redis round trip.
      const release = await this.security.connections.acquire(principal.subject!);
      if (this.closed || this.release) {
        release();
        if (this.closed) throw new AgentwireError('unauthorized', 'The connection has ended.');
        return;
      }
      this.release = release;
    } else if (!counted && this.release) {
      this.release();
      this.release = undefined;
    }
  }

  private scheduleExpiry(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const expiresAt = this.current?.expiresAt;
    if (expiresAt === undefined) return;
    const fire = () => {
      if (this.closed || this.current?.expiresAt !== expiresAt) return;
      const left = expiresAt - Date.now();
      if (left > 0) {
        this.arm(Math.min(left, MAX_TIMER_MS), fire);
        return;
      }
      this.hooks.end(new AgentwireError('token_expired', 'The token expired; reconnect with a fresh one.'));
    };
    this.arm(Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMER_MS), fire);
  }

  private arm(ms: number, fn: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(fn, ms);
    this.timer.unref();
  }
}
