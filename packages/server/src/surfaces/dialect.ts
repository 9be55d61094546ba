import type { AgentwireError, AnyEnvelope, Command, Since, TaskState } from '@agentwire/protocol';
import type { Role } from '../auth/principal.js';
import type { SubscribeResult } from '../hub/hub.js';

/**
 * A dialect maps the canonical catalog onto what an existing Socket.IO client expects, and that
 * client's messages onto our subscribe and commands. It is a table of pure functions: the
 * connection (socketio/socketio-connection.ts) owns every piece of state, so one dialect object
 * serves every connection on its path and a dialect can be tested by calling it.
 */

/** The Socket.IO dialects a path can speak (docs/dialects.md). */
export const dialectNames = ['native', 'mageagent', 'progress', 'flask-dashboard'] as const;
export type DialectName = (typeof dialectNames)[number];

export function isDialectName(value: unknown): value is DialectName {
  return typeof value === 'string' && (dialectNames as readonly string[]).includes(value);
}

/** One Socket.IO emit. With `rooms`, only sockets that joined one of them receive it. */
export interface Emit {
  event: string;
  payload: unknown;
  rooms?: readonly string[];
}

/** Where a room's events come from: one stream (live tail), or every stream under a prefix. */
export type Feed = { stream: string } | { prefix: string };

/**
 * How a subscription uses its snapshot: `replay` re-emits it as the dialect's own events (a late
 * joiner draws the task), `state` sends it as one message (seed 002's `state`), `ack` only puts
 * it in the acknowledgement (native).
 */
export type SnapshotUse = 'replay' | 'state' | 'ack';

/**
 * What a subscribe does when the stream is already subscribed: `fresh` refuses (native, like the
 * WebSocket), `replace` starts over (a seed client re-subscribing after a hiccup), `keep` leaves
 * the running subscription alone.
 */
export type SubscribeMode = 'fresh' | 'replace' | 'keep';

/** What a client message (or a handshake) asks the connection to do. */
export type Intent =
  | { kind: 'subscribe'; stream: string; since?: Since; snapshot?: SnapshotUse; mode: SubscribeMode }
  | { kind: 'unsubscribe'; stream: string }
  | { kind: 'command'; command: Command }
  | { kind: 'join'; room: string }
  | { kind: 'leave'; room: string };

/** The result of a message's last intent, which its acknowledgement reports. */
export type Outcome =
  | { kind: 'subscribed'; stream: string; result?: SubscribeResult }
  | { kind: 'unsubscribed'; stream: string }
  | { kind: 'command'; result: unknown }
  | { kind: 'joined'; room: string }
  | { kind: 'left'; room: string }
  | { kind: 'none' }
  | { kind: 'error'; error: AgentwireError };

/** What a client sent when it connected. Values are unvalidated client input. */
export interface Handshake {
  query: Readonly<Record<string, unknown>>;
  auth: Readonly<Record<string, unknown>>;
}

export interface InboundContext {
  handshake: Handshake;
  /** Streams the connection is subscribed to, oldest first: for messages that name no task. */
  streams: readonly string[];
}

/** Parses one client event's payload (unknown) into intents, or throws an AgentwireError. */
export type InboundHandler = (payload: unknown, ctx: InboundContext) => Intent[];

export interface SocketIoDialect {
  readonly name: DialectName;
  /** Client event name → handler. Anything else is answered with `unknown_op`. */
  readonly inbound: Readonly<Record<string, InboundHandler>>;
  /**
   * Rooms a client may join (`join` intents), the feeds each needs, and the role it takes to join
   * (on a gateway with auth): a room that tells who else is connected is not for every viewer.
   */
  readonly rooms?: Readonly<Record<string, { feeds: readonly Feed[]; role?: Role }>>;
  /**
   * Whether `event` reads task state. The state handed over is the task's at or after the event
   * (never before it), so a dialect must use it only for facts that do not change once set: names,
   * models, the order of tools and stages, a finished message's text.
   */
  readonly needsState: boolean;
  /** Intents to run when a client connects (seed 002 joins its request from the query). */
  connect?(handshake: Handshake): Intent[];
  /** One canonical event → what the client receives. */
  event(e: AnyEnvelope, state: TaskState | null): Emit[];
  /** Several consecutive events at once; defaults to `event` for each. */
  events?(events: readonly AnyEnvelope[]): Emit[];
  /** What a subscription's snapshot becomes (see SnapshotUse). */
  snapshot?(use: SnapshotUse, stream: string, state: TaskState | null, result: SubscribeResult): Emit[];
  /** The acknowledgement payload for an outcome, when the client passed an ack callback. */
  reply(outcome: Outcome): unknown;
  /** What to emit for an outcome when the client passed no ack callback (errors excepted). */
  unacked?(outcome: Outcome): Emit | undefined;
  /** How a refused message is reported when there is no ack callback. */
  error(err: AgentwireError, event: string): Emit;
  /** Presence messages (seed 003's user_joined / user_left), sent to the other sockets in `rooms`. */
  presence?(kind: 'joined' | 'left', who: { userId: string; sid: string }, room: string, time: number): Emit;
}
