import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Epoch, EnvelopeSchema, EventId, Seq, StreamName, type AnyEnvelope } from './envelope.js';
import type { ErrorBody } from './errors.js';
import type { TaskState } from './reducer.js';
import type { TaskSummary } from './task-list.js';

/**
 * The JSON answers of the HTTP API (docs/http-api.md), one schema and one type each. The gateway
 * builds its answers as these types and clients read them as these types; the schemas check an
 * answer at a boundary (tests, clients that want to) and go into docs/protocol.schema.json.
 *
 * Where an answer carries envelopes or task states, the TypeScript type is the precise one the code
 * works with (`AnyEnvelope`, `TaskState`) and the schema is as loose as the event catalog's own
 * envelope schema: the catalog checks event data, these check the answer's shape. Envelopes are a
 * `$ref` to `Envelope`; pass `HTTP_ANSWER_REFS` when compiling these schemas.
 */

/** The schemas the answer schemas refer to by `$ref`. */
export const HTTP_ANSWER_REFS: TSchema[] = [EnvelopeSchema];

const Envelopes = Type.Array(Type.Ref('Envelope'));
const Time = Type.Number({ minimum: 0 });
const Count = Type.Integer({ minimum: 0 });

/** Every refusal: the registry's code and message (`details` for some codes). */
export const ErrorAnswerSchema = Type.Object(
  {
    error: Type.Object(
      { code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export interface ErrorAnswer {
  error: ErrorBody;
}

/** `POST /v1/streams/{stream}/events`: the seq each event was stored at, by id, in order sent. */
export const PublishResultSchema = Type.Object(
  {
    stream: StreamName,
    epoch: Epoch,
    results: Type.Array(
      Type.Object({ id: EventId, seq: Seq, duplicate: Type.Boolean() }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type PublishResult = Static<typeof PublishResultSchema>;

/** `GET /v1/streams/{stream}`: where a stream stands. */
export const StreamHeadSchema = Type.Object(
  {
    stream: StreamName,
    epoch: Epoch,
    /** Seq of the newest event; 0 when the stream is empty. */
    head: Seq,
    /** Seq of the oldest retained event; head + 1 when none is retained. */
    first: Seq,
  },
  { additionalProperties: false },
);
export type StreamHead = Static<typeof StreamHeadSchema>;

/** `GET /v1/streams/{stream}/events`: the events after `after`, oldest first, at most `limit`. */
export const HistoryPageSchema = Type.Object(
  { ...StreamHeadSchema.properties, events: Envelopes },
  { additionalProperties: false },
);
export interface HistoryPage extends StreamHead {
  events: AnyEnvelope[];
}

/** A task state as answers carry it: the reducer's `TaskState`, checked here only by its keys. */
export const TaskStateSchema = Type.Unsafe<TaskState>(
  Type.Object({
    taskId: Type.String(),
    stream: StreamName,
    title: Type.String(),
    status: Type.String(),
    seq: Seq,
    agents: Type.Record(Type.String(), Type.Unknown()),
    tools: Type.Record(Type.String(), Type.Unknown()),
    questions: Type.Record(Type.String(), Type.Unknown()),
  }),
);

/**
 * `GET /v1/streams/{stream}/poll`. The next poll's `after` is the last event's seq, or `head` when
 * `events` is empty; `recovered: false` means the events do not continue the client's position
 * (a `snapshot`, when asked for, stands in for what was missed).
 */
export const PollAnswerSchema = Type.Object(
  {
    stream: StreamName,
    epoch: Epoch,
    head: Seq,
    recovered: Type.Boolean(),
    snapshot: Type.Optional(
      Type.Object(
        { seq: Seq, state: Type.Union([TaskStateSchema, Type.Null()]) },
        { additionalProperties: false },
      ),
    ),
    events: Envelopes,
  },
  { additionalProperties: false },
);
export interface PollAnswer {
  stream: string;
  epoch: string;
  head: number;
  recovered: boolean;
  snapshot?: { seq: number; state: TaskState | null };
  events: AnyEnvelope[];
}

/** One row of the task list (`TaskSummary`). */
export const TaskSummarySchema = Type.Object(
  {
    taskId: Type.String(),
    stream: StreamName,
    title: Type.String(),
    status: Type.Union([
      Type.Literal('pending'),
      Type.Literal('running'),
      Type.Literal('completed'),
      Type.Literal('failed'),
      Type.Literal('cancelled'),
    ]),
    kind: Type.Optional(Type.String()),
    projectId: Type.Optional(Type.String()),
    stage: Type.Optional(Type.String()),
    percent: Type.Optional(Type.Number()),
    agents: Count,
    runningAgents: Count,
    tools: Count,
    openQuestions: Count,
    createdAt: Time,
    startedAt: Type.Optional(Time),
    endedAt: Type.Optional(Time),
    updatedAt: Time,
    seq: Seq,
  },
  { additionalProperties: false },
);

/** `GET /v1/tasks`: a page of the task list, newest task first. */
export const TaskListPageSchema = Type.Object(
  {
    tasks: Type.Array(TaskSummarySchema),
    /** Tasks matching the query, on every page. */
    total: Count,
    offset: Count,
    /** Names this page's content; pass it back with `wait` to be answered only when it changed. */
    etag: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export interface TaskListPage {
  tasks: TaskSummary[];
  total: number;
  offset: number;
  etag: string;
}

/**
 * `POST /v1/tasks`, and the result of a `start` command: the new task, and the worker that
 * started it when it has a `kind`. `seq` is the stored `task:start` (absent only when a worker
 * acknowledged without saying).
 */
export const TaskCreatedSchema = Type.Object(
  {
    taskId: Type.String({ minLength: 1 }),
    stream: StreamName,
    worker: Type.Optional(Type.String()),
    seq: Type.Optional(Seq),
  },
  { additionalProperties: false },
);
export type TaskCreated = Static<typeof TaskCreatedSchema>;

/** `GET /v1/tasks/{taskId}`: the reducer's state of the task as of `seq`. */
export const TaskAnswerSchema = Type.Object(
  { seq: Seq, state: TaskStateSchema },
  { additionalProperties: false },
);
export interface TaskAnswer {
  seq: number;
  state: TaskState;
}

/** One dependency of `/readyz`: working, or what is wrong with it since when. */
export const CheckReportSchema = Type.Union([
  Type.Object({ ok: Type.Literal(true) }, { additionalProperties: false }),
  Type.Object(
    {
      ok: Type.Literal(false),
      /** A short code (`SQLITE_FULL`, `ECONNREFUSED`, `detached`, `shutting_down`): no paths or addresses. */
      cause: Type.String(),
      /** When it started failing, ms since the epoch. */
      since: Time,
      /** Set when no retry can fix it and the operator must act. */
      lasting: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
]);
export type CheckReport = Static<typeof CheckReportSchema>;

/** `GET /readyz`: 200 `ready`, or 503 `not_ready` with the registry's `unavailable` error. */
export const ReadinessAnswerSchema = Type.Union([
  Type.Object(
    { status: Type.Literal('ready'), checks: Type.Record(Type.String(), CheckReportSchema) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      status: Type.Literal('not_ready'),
      checks: Type.Record(Type.String(), CheckReportSchema),
      error: ErrorAnswerSchema.properties.error,
    },
    { additionalProperties: false },
  ),
]);
export type ReadinessAnswer =
  | { status: 'ready'; checks: Record<string, CheckReport> }
  | { status: 'not_ready'; checks: Record<string, CheckReport>; error: ErrorBody };

/** `GET /healthz`: the process runs. */
export const HealthAnswerSchema = Type.Object(
  { status: Type.Literal('ok') },
  { additionalProperties: false },
);
export type HealthAnswer = Static<typeof HealthAnswerSchema>;

/**
 * `GET /v1/stats` (admin): the figures every gateway reports. Engines, transports and features add
 * their own figures beside these, so other keys are allowed.
 */
export const StatsAnswerSchema = Type.Object({
  uptimeMs: Time,
  engine: Type.String(),
  /** Open connections, per transport: native WebSocket, then each other surface. */
  connections: Count,
  sseConnections: Count,
  pendingPolls: Count,
  aguiConnections: Count,
  socketioConnections: Count,
  swarmTerminalConnections: Count,
  subscriptions: Count,
  streams: Count,
  publishedEvents: Count,
  deliveredEvents: Count,
  taskList: Type.Object({ indexed: Count, watches: Count }),
  /** Subscribers per stream, where reported. */
  watchers: Type.Optional(Type.Record(Type.String(), Count)),
  /** Resident memory of the process, in bytes. */
  memory: Count,
});
export type StatsAnswer = Static<typeof StatsAnswerSchema> & Record<string, unknown>;

/**
 * `POST /v1/commands`: the WebSocket `ack` without its `op`. `ref` is echoed when sent; `result`
 * is the command's own (a `TaskCreated` for `start`).
 */
export const CommandAnswerSchema = Type.Object(
  {
    ref: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    result: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type CommandAnswer = Static<typeof CommandAnswerSchema>;

/** Every JSON answer's schema by name, for the schema document and for checking answers. */
export const httpAnswerSchemas = {
  ErrorAnswer: ErrorAnswerSchema,
  PublishResult: PublishResultSchema,
  StreamHead: StreamHeadSchema,
  HistoryPage: HistoryPageSchema,
  PollAnswer: PollAnswerSchema,
  TaskListPage: TaskListPageSchema,
  TaskCreated: TaskCreatedSchema,
  TaskAnswer: TaskAnswerSchema,
  ReadinessAnswer: ReadinessAnswerSchema,
  HealthAnswer: HealthAnswerSchema,
  StatsAnswer: StatsAnswerSchema,
  CommandAnswer: CommandAnswerSchema,
} as const;
