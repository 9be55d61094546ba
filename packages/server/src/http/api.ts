import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AgentwireError,
  assertSchema,
  isStreamName,
  MAX_TASK_WINDOW,
  TASK_STREAM_PREFIX,
  taskIdOf,
  taskStream,
  type HealthAnswer,
  type HistoryPage,
  type PublishResult,
  type ReadinessAnswer,
  type StatsAnswer,
  type StreamHead,
  type TaskAnswer,
  type TaskCreated,
  type TaskListPage,
} from '@agentwire/protocol';
import { Type } from '@sinclair/typebox';
import type { AuthPrincipal } from '../auth/principal.js';
import type { Security } from '../auth/security.js';
import type { CommandRouter } from '../commands.js';
import type { Edge } from '../edge/edge.js';
import type { Limits } from '../limits/limits.js';
import type { LogEngine } from '../log/engine.js';
import type { Logger } from '../logger.js';
import { Readiness, type ReadinessReport } from '../readiness.js';
import type { SnapshotService } from '../snapshots.js';
import { withHeaderTrace } from '../tracing.js';
import { getTask } from '../tasks.js';
import type { TaskIndex } from '../task-list/task-index.js';
import { parseTaskListQuery, taskListAnswer, waitForTaskList } from '../task-list/http-task-list.js';
import { countParam, decodeStream, seqParam } from '../transports/http-params.js';
import { readJsonBody } from './body.js';
import { sendError, sendJson } from './respond.js';

export interface ApiContext {
  engine: LogEngine;
  /** HTTP ingest: the gateway's one ingest path, counted as `http`. */
  publish: (stream: string, events: readonly unknown[]) => Promise<PublishResult>;
  snapshots: SnapshotService;
  limits: Limits;
  /** Every dependency this node needs, asked afresh on each `/readyz`. */
  readiness: () => ReadinessReport;
  logger: Logger;
  stats: () => StatsAnswer;
  /** The gateway's command router: a task with a `kind` is started by a worker for that kind. */
  commands?: CommandRouter;
  /** Who each request is and what it may do (docs/security.md); every route below asks. */
  security: Security;
  /** The task list every node keeps (`GET /v1/tasks`). */
  taskIndex: TaskIndex;
  /** Least time between two looks at the task list for a waiting `GET /v1/tasks`, in ms. */
  taskListIntervalMs: number;
}

const CreateTask = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 500 }),
    taskId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._~-]*$' }),
    ),
    kind: Type.Optional(Type.String({ maxLength: 128 })),
    projectId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    input: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

const PublishBody = Type.Object({ events: Type.Array(Type.Unknown()) }, { additionalProperties: false });

/** One API call as a route handler sees it. */
interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The route's `:name` segments, decoded by the route. */
  params: Record<string, string>;
  /** Who is asking: verified once per request, and before any body is read. */
  principal: () => Promise<AuthPrincipal>;
}

type Handler = (ctx: ApiContext, call: Call) => Promise<void> | void;

interface Route {
  /** `/v1/streams/:stream/events`: a `:name` segment matches any one non-empty segment. */
  path: string;
  /** Handlers by method; `*` answers every method. */
  methods: Partial<Record<'GET' | 'POST' | '*', Handler>>;
}

/** The v1 HTTP API and the probes (docs/http-api.md), one row per path. */
const routes: Route[] = [
  {
    path: '/healthz',
    methods: { '*': (_ctx, { res }) => sendJson<HealthAnswer>(res, 200, { status: 'ok' }) },
  },
  { path: '/readyz', methods: { '*': readyz } },
  { path: '/v1/streams/:stream', methods: { GET: streamHead } },
  { path: '/v1/streams/:stream/events', methods: { GET: readHistory, POST: publishEvents } },
  { path: '/v1/tasks', methods: { GET: listTasks, POST: createTask } },
  { path: '/v1/tasks/:taskId', methods: { GET: getTaskState } },
  { path: '/v1/stats', methods: { GET: stats } },
];

/**
 * The HTTP API as an edge: takes the probes and everything under `/v1/`, answering a path no route
 * has with `not_found`; anything else is left to the edges after it (the static dashboard).
 */
export class HttpApi implements Edge {
  constructor(private readonly ctx: ApiContext) {}

  async handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const found = match(path);
    if (!found && !path.startsWith('/v1/')) return false;
    const { ctx } = this;
    try {
      if (!found) throw new AgentwireError('not_found', `No route ${method} ${path.slice(0, 200)}.`);
      const { route, params } = found;
      const handler = route.methods[method as 'GET' | 'POST'] ?? route.methods['*'];
      if (!handler) {
        const allowed = Object.keys(route.methods).join(' or ');
        throw new AgentwireError('method_not_allowed', `Use ${allowed}.`);
      }
      const principal = () => ctx.security.principalOf(req, url);
      await handler(ctx, { req, res, url, params, principal });
    } catch (err) {
      // Storage failures are logged where they happen (with their cause, once per burst); anything
      // else unexpected is logged here, since the caller only sees `internal`.
      if (!(err instanceof AgentwireError) || err.code === 'internal')
        ctx.logger.error({ err, method, path: path.slice(0, 200) }, 'request failed');
      sendError(res, err);
    }
    return true;
  }
}

function match(path: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split('/');
  for (const route of routes) {
    const pattern = route.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((segment, i) => {
      const part = parts[i]!;
      if (!segment.startsWith(':')) return segment === part;
      params[segment.slice(1)] = part;
      return part !== '';
    });
    if (matches) return { route, params };
  }
  return undefined;
}

function readyz(ctx: ApiContext, { res }: Call): void {
  const report = ctx.readiness();
  if (report.ready) {
    sendJson<ReadinessAnswer>(res, 200, { status: 'ready', checks: report.checks });
    return;
  }
  // The registry's error shape (clients read `error.code`), plus what is wrong, check by check.
  const error = new AgentwireError('unavailable', `Not ready: ${Readiness.describe(report)}.`);
  sendJson<ReadinessAnswer>(res, error.status, {
    status: 'not_ready',
    checks: report.checks,
    error: error.toJSON(),
  });
}

async function streamHead(ctx: ApiContext, { res, params, principal }: Call): Promise<void> {
  const stream = decodeStream(params.stream!);
  await ctx.security.access.assertRead(await principal(), stream);
  sendJson<StreamHead>(res, 200, await ctx.engine.head(stream));
}

async function publishEvents(ctx: ApiContext, { req, res, params, principal }: Call): Promise<void> {
  const { security } = ctx;
  const stream = decodeStream(params.stream!);
  const who = await principal();
  if (security.enabled && !who.publish) await security.authorizePublish(who, stream, []);
  const body = await readJsonBody(req, ctx.limits.maxBodyBytes);
  assertSchema(PublishBody, body, 'invalid_message', 'Invalid publish body');
  const events = withHeaderTrace((body as { events: unknown[] }).events, req.headers);
  await security.authorizePublish(who, stream, events);
  sendJson<PublishResult>(res, 200, await ctx.publish(stream, events));
}

async function readHistory(ctx: ApiContext, { res, url, params, principal }: Call): Promise<void> {
  const { security } = ctx;
  const stream = decodeStream(params.stream!);
  const reader = await principal();
  await security.access.assertRead(reader, stream);
  const after = seqParam(url, 'after') ?? 0;
  const limit = countParam(url, 'limit', ctx.limits.maxReadLimit, ctx.limits.maxReadLimit);
  const read = await ctx.engine.read(stream, after, limit);
  // A move out of the reader's projects committed during the read ends what it gets there.
  const visible = security.readableRun(reader, stream, read.events);
  sendJson<HistoryPage>(
    res,
    200,
    visible < read.events.length ? { ...read, events: read.events.slice(0, visible) } : read,
  );
}

async function createTask(ctx: ApiContext, { req, res, principal }: Call): Promise<void> {
  const { security } = ctx;
  const who = await principal();
  const body = await readJsonBody(req, ctx.limits.maxBodyBytes);
  assertSchema(CreateTask, body, 'invalid_message', 'Invalid task');
  const input = body as {
    title: string;
    taskId?: string;
    kind?: string;
    projectId?: string;
    input?: unknown;
  };
  if (input.kind !== undefined && ctx.commands) {
    // A kind names work a worker does: the worker starts the task (or no_worker says none can).
    const sender =
      who.kind === 'open'
        ? {}
        : { principal: who, ...(who.subject !== undefined && { subject: who.subject }) };
    const started = await ctx.commands.dispatch({ type: 'start', ...input, kind: input.kind }, sender);
    sendJson<TaskCreated>(res, 201, started as TaskCreated);
    return;
  }
  const taskId = input.taskId ?? randomUUID();
  const stream = taskStream(taskId);
  if (!isStreamName(stream)) throw new AgentwireError('invalid_stream');
  const { taskId: _ignored, ...data } = input;
  await security.authorizeCreateTask(who, stream, { type: 'task:start', data: { ...data, taskId } });
  const published = await ctx.publish(stream, [{ type: 'task:start', data: { ...data, taskId } }]);
  sendJson<TaskCreated>(res, 201, { taskId, stream, seq: published.results[0]!.seq });
}

async function listTasks(ctx: ApiContext, { res, url, principal }: Call): Promise<void> {
  const { security } = ctx;
  const query = parseTaskListQuery(url);
  const offset = Math.min(seqParam(url, 'offset') ?? 0, 10_000_000);
  const limit = countParam(url, 'limit', 50, MAX_TASK_WINDOW);
  const waitMs = Math.round(Number(url.searchParams.get('wait') ?? 0) * 1000);
  if (!(waitMs >= 0)) throw new AgentwireError('invalid_message', 'wait must be a number of seconds.');
  const who = await principal();
  // Filtered inside the walk, so a restricted caller gets up to `limit` rows it may see.
  const visible = (t: { stream: string; projectId?: string }) =>
    security.access.mayReadTask(who, t.stream, t.projectId);
  const request = { query, offset, limit, ...(security.enabled && { visible }) };
  await ctx.taskIndex.ready();
  const etag = url.searchParams.get('etag');
  const answer =
    etag !== null && waitMs > 0
      ? await waitForTaskList(ctx.taskIndex, request, etag, {
          waitMs: Math.min(waitMs, ctx.limits.maxPollWaitMs),
          intervalMs: ctx.taskListIntervalMs,
          closed: res,
        })
      : taskListAnswer(ctx.taskIndex, request);
  sendJson<TaskListPage>(res, 200, answer);
}

async function getTaskState(ctx: ApiContext, { res, params, principal }: Call): Promise<void> {
  const stream = decodeStream(encodeURIComponent(TASK_STREAM_PREFIX) + params.taskId!);
  await ctx.security.access.assertRead(await principal(), stream);
  sendJson<TaskAnswer>(res, 200, await getTask(ctx.snapshots, taskIdOf(stream)!));
}

async function stats(ctx: ApiContext, { res, principal }: Call): Promise<void> {
  ctx.security.access.assertAdmin(await principal(), 'the gateway stats');
  sendJson<StatsAnswer>(res, 200, ctx.stats());
}
