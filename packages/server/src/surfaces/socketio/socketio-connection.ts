import { AgentwireError, taskIdOf, type AnyEnvelope, type TaskState } from '@agentwire/protocol';
import type { Socket } from 'socket.io';
import { atLeast } from '../../auth/principal.js';
import type { Security } from '../../auth/security.js';
import type { Session } from '../../auth/session.js';
import type { CommandRouter } from '../../commands.js';
import type { Limits } from '../../limits/limits.js';
import type { Emit, Feed, Handshake, Intent, Outcome, SocketIoDialect } from '../dialect.js';
import type { Hub, PatternSubscription, Subscription } from '../../hub/hub.js';
import type { Logger } from '../../logger.js';
import type { SnapshotService } from '../../snapshots.js';
import { DialectSink } from '../dialect-sink.js';
import type { TokenIdentity } from '../../auth/dialect-token.js';

export interface SocketIoConnectionDeps {
  hub: Hub;
  snapshots: SnapshotService;
  commands: CommandRouter;
  limits: Limits;
  logger: Logger;
  security: Security;
}

type Ack = (reply: unknown) => void;

const feedKey = (feed: Feed) => ('prefix' in feed ? `prefix:${feed.prefix}` : `stream:${feed.stream}`);

/**
 * One Socket.IO client speaking one dialect. The dialect turns client messages into intents and
 * events into emits; this class owns everything stateful in between: hub subscriptions, the
 * feeds behind joined rooms, acknowledgements, and the one ordered queue all output goes through.
 */
export class SocketIoConnection {
  private readonly subs = new Map<string, Subscription>();
  private readonly feeds = new Map<string, Subscription | PatternSubscription>();
  private readonly sink: DialectSink;
  private readonly handshake: Handshake;
  /** Bytes engine.io holds for this socket that the transport has not taken yet. */
  private pendingBytes = 0;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly dialect: SocketIoDialect,
    private readonly deps: SocketIoConnectionDeps,
    private readonly principal: TokenIdentity,
    private readonly session: Session,
  ) {
    this.handshake = { query: { ...socket.handshake.query }, auth: { ...socket.handshake.auth } };
    this.sink = new DialectSink({
      deliver: (events) => this.deliver(events),
      transportBytes: () => this.pendingBytes + websocketBuffered(socket),
      overflow: () => this.overflow(),
      revoke: (stream, err) => this.revoked(stream, err),
      onError: (err) => deps.logger.error({ err, connection: socket.id }, 'socket.io delivery failed'),
    });
    // Whose subscriptions these are, for the hub's access check (docs/security.md).
    deps.security.bind(this.sink, session);
    socket.conn.on('packetCreate', (packet: { data?: unknown }) => {
      if (typeof packet.data === 'string') this.pendingBytes += packet.data.length;
    });
    socket.conn.on('drain', () => (this.pendingBytes = 0));
    socket.onAny((event: unknown, ...args: unknown[]) => this.onMessage(event, args));
    socket.on('disconnecting', () => this.onDisconnecting());
    socket.on('disconnect', () => this.dispose());

    let intents: Intent[];
    try {
      intents = dialect.connect?.(this.handshake) ?? [];
    } catch (err) {
      this.refuse(err, 'connect');
      return;
    }
    if (intents.length > 0) void this.run(intents, 'connect', undefined);
  }

  /** Who the client is: the verified subject, else the user id it claims, else its socket id. */
  get userId(): string {
    const claimed = this.handshake.auth.user_id ?? this.handshake.query.user_id;
    return (
      this.principal.subject ??
      (typeof claimed === 'string' && claimed !== '' ? claimed.slice(0, 256) : this.socket.id)
    );
  }

  private onMessage(event: unknown, args: unknown[]): void {
    if (this.closed) return;
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as Ack) : undefined;
    const name = typeof event === 'string' ? event : String(event);
    const admission = this.session.admit();
    if (admission !== 'ok') {
      if (admission === 'close')
        this.end(new AgentwireError('rate_limited', 'Too many messages for too long.'));
      else if (admission === 'drop-and-tell' || ack)
        this.refuse(
          new AgentwireError(
            'rate_limited',
            `At most ${this.deps.limits.maxMessagesPerSecond} messages per second.`,
          ),
          name,
          ack,
        );
      return;
    }
    // Our extension on every dialect: `auth` with {token} refreshes the credential in place.
    if (name === 'auth') {
      this.refresh(args[0], ack);
      return;
    }
    const handler = Object.hasOwn(this.dialect.inbound, name) ? this.dialect.inbound[name] : undefined;
    if (!handler) {
      this.refuse(
        new AgentwireError('unknown_op', `Unknown event ${JSON.stringify(name.slice(0, 64))}.`),
        name,
        ack,
      );
      return;
    }
    let intents: Intent[];
    try {
      intents = handler(args[0], { handshake: this.handshake, streams: [...this.subs.keys()] });
    } catch (err) {
      this.refuse(err, name, ack);
      return;
    }
    void this.run(intents, name, ack);
  }

  /** Runs a message's intents in order; the acknowledgement reports the last one (or the first failure). */
  private async run(intents: Intent[], event: string, ack: Ack | undefined): Promise<void> {
    if (intents.length === 0) {
      this.reply({ kind: 'none' }, ack);
      return;
    }
    for (let i = 0; i < intents.length && !this.closed; i++) {
      const last = i === intents.length - 1;
      try {
        const outcome = await this.execute(intents[i]!, event, last ? ack : undefined, last);
        if (last && outcome) this.reply(outcome, ack);
      } catch (err) {
        this.refuse(err, event, ack);
        return;
      }
    }
  }

  /** Returns the outcome, or undefined when it was already answered (a subscription, once ready). */
  private async execute(
    intent: Intent,
    event: string,
    ack: Ack | undefined,
    last: boolean,
  ): Promise<Outcome | undefined> {
    switch (intent.kind) {
      case 'subscribe':
        return this.subscribe(intent, event, ack, last);
      case 'unsubscribe': {
        const sub = this.subs.get(intent.stream);
        if (!sub) throw new AgentwireError('not_subscribed', `Not subscribed to ${intent.stream}.`);
        this.deps.hub.unsubscribe(sub);
        this.subs.delete(intent.stream);
        return { kind: 'unsubscribed', stream: intent.stream };
      }
      case 'command': {
        const principal = this.deps.security.enabled ? this.session.principal : undefined;
        const sender = {
          connection: this.socket.id,
          ...(this.principal.subject !== undefined && { subject: this.principal.subject }),
          ...(principal && { principal }),
        };
        const result = await this.deps.commands.dispatch(intent.command, sender);
        return { kind: 'command', result };
      }
      case 'join': {
        this.assertMayJoin(intent.room);
        const known = this.dialectRoom(intent.room);
        const already = this.socket.rooms.has(intent.room);
        await this.socket.join(intent.room);
        this.syncFeeds();
        if (known && !already) this.announce('joined', intent.room);
        return { kind: 'joined', room: intent.room };
      }
      case 'leave': {
        const was = this.socket.rooms.has(intent.room);
        if (was && this.dialectRoom(intent.room)) this.announce('left', intent.room);
        await this.socket.leave(intent.room);
        this.syncFeeds();
        return { kind: 'left', room: intent.room };
      }
    }
  }

  private subscribe(
    intent: Extract<Intent, { kind: 'subscribe' }>,
    event: string,
    ack: Ack | undefined,
    last: boolean,
  ): Promise<Outcome | undefined> {
    const { hub, limits } = this.deps;
    const { stream, since, snapshot } = intent;
    const existing = this.subs.get(stream);
    if (existing) {
      if (intent.mode === 'fresh')
        throw new AgentwireError('already_subscribed', `Already subscribed to ${stream}.`);
      if (intent.mode === 'keep') return Promise.resolve({ kind: 'subscribed', stream });
      hub.unsubscribe(existing);
      this.subs.delete(stream);
    }
    if (this.subs.size >= limits.maxSubscriptionsPerConnection) {
      throw new AgentwireError(
        'too_many_subscriptions',
        `At most ${limits.maxSubscriptionsPerConnection} subscriptions per connection.`,
      );
    }
    const sub = hub.open(stream, this.sink);
    this.subs.set(stream, sub);
    const request = { ...(since && { since }), ...(snapshot && { snapshot: true }) };
    return new Promise((resolve, reject) => {
      let ready = false;
      hub
        .start(sub, request, (result) => {
          ready = true;
          // Queued before the hub sends the first event, so the ack and the snapshot lead.
          this.sink.control(() => {
            if (last) this.replyNow({ kind: 'subscribed', stream, result }, ack);
            if (snapshot && result.snapshot && this.dialect.snapshot) {
              for (const out of this.dialect.snapshot(snapshot, stream, result.snapshot.state, result))
                this.emitNow(out);
            }
          });
          resolve(undefined);
        })
        .then(
          // Unsubscribed before it was ready: nothing to report but that it ended.
          () => resolve({ kind: 'unsubscribed', stream }),
          (err: unknown) => {
            if (this.subs.get(stream) === sub) this.subs.delete(stream);
            if (ready) this.refuse(err, event, undefined);
            else reject(err);
          },
        );
    });
  }

  private assertMayJoin(room: string): void {
    const needed = this.dialectRoom(room) ? this.dialect.rooms![room]!.role : undefined;
    if (needed === undefined || !this.deps.security.enabled) return;
    if (!atLeast(this.session.principal?.role, needed))
      throw new AgentwireError('forbidden', `The ${room} room needs the ${needed} role.`, { room });
  }

  private dialectRoom(room: string): boolean {
    return this.dialect.rooms !== undefined && Object.hasOwn(this.dialect.rooms, room);
  }

  /** Opens the feeds the joined rooms need and closes the ones no joined room needs any more. */
  private syncFeeds(): void {
    const wanted = new Map<string, Feed>();
    for (const room of this.socket.rooms) {
      if (!this.dialectRoom(room)) continue;
      for (const feed of this.dialect.rooms![room]!.feeds) wanted.set(feedKey(feed), feed);
    }
    for (const [key, sub] of this.feeds) {
      if (wanted.has(key)) continue;
      this.closeFeed(sub);
      this.feeds.delete(key);
    }
    for (const [key, feed] of wanted) {
      if (this.feeds.has(key)) continue;
      if ('prefix' in feed) {
        this.feeds.set(key, this.deps.hub.openPattern(feed.prefix, this.sink));
      } else {
        const sub = this.deps.hub.open(feed.stream, this.sink);
        this.feeds.set(key, sub);
        this.deps.hub
          .start(sub, {}, () => {})
          .catch((err: unknown) => {
            this.deps.logger.warn({ err, stream: feed.stream }, 'socket.io room feed failed');
            if (this.feeds.get(key) === sub) this.feeds.delete(key);
          });
      }
    }
  }

  private closeFeed(sub: Subscription | PatternSubscription): void {
    if ('prefix' in sub) this.deps.hub.closePattern(sub);
    else this.deps.hub.unsubscribe(sub);
  }

  private announce(kind: 'joined' | 'left', room: string): void {
    const out = this.dialect.presence?.(kind, { userId: this.userId, sid: this.socket.id }, room, Date.now());
    if (out) this.socket.to([...(out.rooms ?? [room])]).emit(out.event, out.payload);
  }

  private onDisconnecting(): void {
    for (const room of this.socket.rooms) if (this.dialectRoom(room)) this.announce('left', room);
  }

  private async deliver(events: AnyEnvelope[]): Promise<void> {
    if (this.closed) return;
    let emits: Emit[];
    if (this.dialect.events) {
      emits = this.dialect.events(events);
    } else {
      emits = [];
      // One lookup per stream per delivery: the state already includes every event being delivered.
      const states = new Map<string, TaskState | null>();
      for (const e of events) {
        let state: TaskState | null = null;
        if (this.dialect.needsState && taskIdOf(e.stream) !== undefined) {
          if (!states.has(e.stream)) states.set(e.stream, (await this.deps.snapshots.get(e.stream)).state);
          state = states.get(e.stream) ?? null;
        }
        emits.push(...this.dialect.event(e, state));
      }
    }
    for (const out of emits) this.emitNow(out);
  }

  private emitNow(out: Emit): void {
    if (this.closed) return;
    if (out.rooms && !out.rooms.some((room) => this.socket.rooms.has(room))) return;
    this.socket.emit(out.event, out.payload);
  }

  private reply(outcome: Outcome, ack: Ack | undefined): void {
    this.sink.control(() => this.replyNow(outcome, ack));
  }

  private replyNow(outcome: Outcome, ack: Ack | undefined): void {
    if (this.closed) return;
    if (ack) {
      ack(this.dialect.reply(outcome));
      return;
    }
    const out = this.dialect.unacked?.(outcome);
    if (out) this.emitNow(out);
  }

  /** Answers a refused message: in its ack when it has one, else as the dialect's error event. */
  private refuse(err: unknown, event: string, ack?: Ack): void {
    const error = err instanceof AgentwireError ? err : new AgentwireError('internal');
    if (!(err instanceof AgentwireError))
      this.deps.logger.error({ err, event }, 'unexpected error on socket.io');
    this.sink.control(() => {
      if (this.closed) return;
      if (ack) ack(this.dialect.reply({ kind: 'error', error }));
      else this.emitNow(this.dialect.error(error, event));
    });
  }

  private refresh(payload: unknown, ack: Ack | undefined): void {
    const token = (payload as { token?: unknown } | null)?.token;
    if (typeof token !== 'string' || token === '') {
      this.refuse(new AgentwireError('invalid_message', 'auth takes {token: string}.'), 'auth', ack);
      return;
    }
    this.session.refresh(token).then(
      (p) => {
        const reply = {
          ok: true,
          subject: p.subject ?? 'anonymous',
          role: p.role ?? 'none',
          ...(p.expiresAt !== undefined && { expiresAt: p.expiresAt }),
        };
        if (ack) ack(reply);
        else this.socket.emit('authenticated', reply);
      },
      (err: unknown) => this.refuse(err, 'auth', ack),
    );
  }

  /** Ends the connection with a typed error the client sees before the disconnect (expiry, flood). */
  end(err: AgentwireError): void {
    if (this.closed) return;
    this.socket.emit(...emitArgs(this.dialect.error(err, 'connection')));
    this.socket.disconnect(true);
  }

  /** The hub ended a subscription (access withdrawn): the dialect's error; the socket stays. */
  private revoked(stream: string, err: AgentwireError): void {
    if (this.subs.get(stream)?.closed) this.subs.delete(stream);
    for (const [key, sub] of this.feeds) if (sub.closed) this.feeds.delete(key);
    this.emitNow(this.dialect.error(err, 'subscribe'));
  }

  private overflow(): void {
    if (this.closed) return;
    // The queue is what overflowed, so this skips it: the client learns why before the disconnect.
    this.socket.emit(...emitArgs(this.dialect.error(new AgentwireError('slow_consumer'), 'overflow')));
    this.socket.disconnect(true);
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
    for (const sub of this.subs.values()) this.deps.hub.unsubscribe(sub);
    this.subs.clear();
    for (const sub of this.feeds.values()) this.closeFeed(sub);
    this.feeds.clear();
    this.sink.close();
  }
}

function emitArgs(out: Emit): [string, unknown] {
  return [out.event, out.payload];
}

/** What the WebSocket under engine.io has not sent yet (0 on the polling transport). */
function websocketBuffered(socket: Socket): number {
  const transport = socket.conn.transport as unknown as { socket?: { bufferedAmount?: unknown } };
  const amount = transport.socket?.bufferedAmount;
  return typeof amount === 'number' ? amount : 0;
}
