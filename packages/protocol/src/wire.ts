import { Type, type Static } from '@sinclair/typebox';
import { CommandSchema } from './commands.js';
import type { AnyEnvelope } from './envelope.js';
import { Epoch, Seq, SinceSchema, StreamName } from './envelope.js';
import type { ErrorCode } from './errors.js';
import type { TaskState } from './reducer.js';
import { TaskListQuerySchema, type TaskSummary } from './task-list.js';

/** Version of the native wire protocol described in docs/protocol.md. */
export const PROTOCOL_VERSION = 1;
/** WebSocket subprotocol name; clients may offer it, the server echoes it. */
export const SUBPROTOCOL = 'agentwire.v1';

const Ref = Type.Optional(Type.String({ minLength: 1, maxLength: 128 }));

// ---- client → server -------------------------------------------------------------------------
export const SubscribeOp = Type.Object(
  {
    op: Type.Literal('subscribe'),
    stream: StreamName,
    since: Type.Optional(SinceSchema),
    snapshot: Type.Optional(Type.Boolean()),
    /**
     * The subscriber accepts merged token deltas (`fromSeq` on a `message:delta`): while it is
     * behind, or catching up, consecutive deltas of one message reach it as one event.
     */
    coalesce: Type.Optional(Type.Boolean()),
    ref: Ref,
  },
  { additionalProperties: false },
);
export const UnsubscribeOp = Type.Object(
  { op: Type.Literal('unsubscribe'), stream: StreamName, ref: Ref },
  { additionalProperties: false },
);
export const CommandOp = Type.Object(
  { op: Type.Literal('command'), ref: Type.String({ minLength: 1, maxLength: 128 }), command: CommandSchema },
  { additionalProperties: false },
);
export const PingOp = Type.Object({ op: Type.Literal('ping'), ref: Ref }, { additionalProperties: false });
/**
 * Presents a token on an open connection: first, instead of putting it in the URL, and again before
 * it expires, so a long-lived connection keeps its subscriptions and position (docs/security.md).
 */
export const AuthOp = Type.Object(
  { op: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 16_384 }), ref: Ref },
  { additionalProperties: false },
);

/** Most rows one task-list window may hold. */
export const MAX_TASK_WINDOW = 1000;
/**
 * Follows a window of the live task list (docs/protocol.md, "The task list"): the rows `offset` to
 * `offset + limit` of the tasks matching `query`, newest first. Sent again, it replaces the
 * connection's window (a scroll, a new filter); a connection has at most one.
 */
export const WatchTasksOp = Type.Object(
  {
    op: Type.Literal('watch_tasks'),
    query: Type.Optional(TaskListQuerySchema),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TASK_WINDOW })),
    ref: Ref,
  },
  { additionalProperties: false },
);
export const UnwatchTasksOp = Type.Object(
  { op: Type.Literal('unwatch_tasks'), ref: Ref },
  { additionalProperties: false },
);

export const ClientOpSchema = Type.Union(
  [SubscribeOp, UnsubscribeOp, CommandOp, PingOp, AuthOp, WatchTasksOp, UnwatchTasksOp],
  { $id: 'ClientOp' },
);
export type ClientOp = Static<typeof ClientOpSchema>;
export type SubscribeOp = Static<typeof SubscribeOp>;
export type WatchTasksOp = Static<typeof WatchTasksOp>;
export const clientOpNames = [
  'subscribe',
  'unsubscribe',
  'command',
  'ping',
  'auth',
  'watch_tasks',
  'unwatch_tasks',
] as const;

// ---- server → client -------------------------------------------------------------------------
export interface HelloOp {
  op: 'hello';
  version: number;
  connection: string;
  heartbeatMs: number;
}
export interface EventOp {
  op: 'event';
  event: AnyEnvelope;
}
/** Several consecutive events of one stream in one frame. */
export interface EventsOp {
  op: 'events';
  stream: string;
  events: AnyEnvelope[];
}
export interface SubscribedOp {
  op: 'subscribed';
  stream: string;
  epoch: string;
  /** The stream's head when the subscription took effect. */
  seq: number;
  /** True when every event after the client's `since` will follow; false when it gets a snapshot instead. */
  recovered: boolean;
  snapshot?: { seq: number; state: TaskState | null };
  ref?: string;
}
export interface UnsubscribedOp {
  op: 'unsubscribed';
  stream: string;
  ref?: string;
}
export interface AckOp {
  op: 'ack';
  ref: string;
  result?: unknown;
}
export interface ErrorOp {
  op: 'error';
  code: ErrorCode;
  message: string;
  ref?: string;
  stream?: string;
  details?: unknown;
}
export interface PongOp {
  op: 'pong';
  ref?: string;
  time: number;
}
/** A token presented with `auth` was accepted; the connection now acts as `subject`. */
export interface AuthenticatedOp {
  op: 'authenticated';
  subject: string;
  role: string;
  /** When the token expires (ms since the Unix epoch): send a fresh one with `auth` before then. */
  expiresAt?: number;
  ref?: string;
}
/**
 * The watched window of the task list, sent once the watch starts and then whenever it changed,
 * at most once per coalescing interval. `order` is the window's task ids in list order; `rows` are
 * only the rows the client does not have yet or that changed since the previous frame (all of
 * them in the first frame after `watch_tasks`, which carries its `ref`).
 */
export interface TasksOp {
  op: 'tasks';
  /** Tasks matching the query (the whole list, not only the window). */
  total: number;
  offset: number;
  order: string[];
  rows: TaskSummary[];
  ref?: string;
}
export interface TasksUnwatchedOp {
  op: 'tasks_unwatched';
  ref?: string;
}
export type ServerOp =
  | HelloOp
  | EventOp
  | EventsOp
  | SubscribedOp
  | UnsubscribedOp
  | AckOp
  | ErrorOp
  | PongOp
  | AuthenticatedOp
  | TasksOp
  | TasksUnwatchedOp;

/** Loose runtime schema for server frames, used by clients at their boundary. */
export const ServerOpSchema = Type.Union(
  [
    Type.Object({
      op: Type.Literal('hello'),
      version: Type.Integer(),
      connection: Type.String(),
      heartbeatMs: Type.Integer(),
    }),
    Type.Object({ op: Type.Literal('event'), event: Type.Ref('Envelope') }),
    Type.Object({ op: Type.Literal('events'), stream: StreamName, events: Type.Array(Type.Ref('Envelope')) }),
    Type.Object({
      op: Type.Literal('subscribed'),
      stream: StreamName,
      epoch: Epoch,
      seq: Seq,
      recovered: Type.Boolean(),
      snapshot: Type.Optional(Type.Object({ seq: Seq, state: Type.Unknown() })),
      ref: Ref,
    }),
    Type.Object({ op: Type.Literal('unsubscribed'), stream: StreamName, ref: Ref }),
    Type.Object({ op: Type.Literal('ack'), ref: Type.String(), result: Type.Optional(Type.Unknown()) }),
    Type.Object({
      op: Type.Literal('error'),
      code: Type.String(),
      message: Type.String(),
      ref: Ref,
      stream: Type.Optional(Type.String()),
      details: Type.Optional(Type.Unknown()),
    }),
    Type.Object({ op: Type.Literal('pong'), ref: Ref, time: Type.Number() }),
    Type.Object({
      op: Type.Literal('authenticated'),
      subject: Type.String(),
      role: Type.String(),
      expiresAt: Type.Optional(Type.Number()),
      ref: Ref,
    }),
    Type.Object({
      op: Type.Literal('tasks'),
      total: Type.Integer({ minimum: 0 }),
      offset: Type.Integer({ minimum: 0 }),
      order: Type.Array(Type.String()),
      rows: Type.Array(
        Type.Object({
          taskId: Type.String(),
          stream: Type.String(),
          status: Type.String(),
          createdAt: Type.Number(),
          updatedAt: Type.Number(),
        }),
      ),
      ref: Ref,
    }),
    Type.Object({ op: Type.Literal('tasks_unwatched'), ref: Ref }),
  ],
  { $id: 'ServerOp' },
);
