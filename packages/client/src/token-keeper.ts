import { AgentwireError, type AuthenticatedOp, type ClientOp } from '@agentwire/protocol';

/** Where the keeper sends its `auth` ops and reports what goes wrong. */
export interface TokenKeeperHost {
  send(op: ClientOp): void;
  error(error: AgentwireError): void;
}

/** Refresh this long before expiry: a fifth of the token's remaining life, between 5 s and 60 s. */
function lead(remainingMs: number): number {
  return Math.min(60_000, Math.max(5_000, remainingMs / 5));
}

/**
 * Keeps a connection authenticated with tokens from the application's `getToken()`: presents one as
 * the first frame of every connection (`{op:"auth"}`, so it never sits in a URL), and a fresh one
 * before the gateway's `authenticated.expiresAt`, so a long-lived connection keeps its
 * subscriptions and position instead of being closed with `token_expired`.
 */
export class TokenKeeper {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #generation = 0;
  #refs = 0;

  constructor(
    private readonly getToken: () => string | Promise<string>,
    private readonly host: TokenKeeperHost,
  ) {}

  /** A connection opened: present a token before anything else when `getToken` answers at once. */
  opened(): void {
    this.#present();
  }

  authenticated(op: AuthenticatedOp): void {
    this.#clear();
    if (op.expiresAt === undefined) return;
    const remaining = op.expiresAt - Date.now();
    const generation = this.#generation;
    // setTimeout's ceiling is about 24.8 days; a token living longer is refreshed early, harmlessly.
    const delay = Math.min(Math.max(0, remaining - lead(remaining)), 2 ** 31 - 1);
    this.#timer = setTimeout(() => {
      if (generation === this.#generation) this.#present();
    }, delay);
  }

  /** The connection is gone: nothing scheduled may reach the next one. */
  stop(): void {
    this.#clear();
    this.#generation++;
  }

  #present(): void {
    const generation = this.#generation;
    const send = (token: string) => {
      if (generation !== this.#generation) return;
      this.host.send({ op: 'auth', token, ref: `auth${++this.#refs}` });
    };
    let token: string | Promise<string>;
    try {
      token = this.getToken();
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (typeof token === 'string') send(token);
    else token.then(send, (err: unknown) => this.#fail(err));
  }

  #fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.host.error(new AgentwireError('unauthorized', `getToken() failed: ${message}`));
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
