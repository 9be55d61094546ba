import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AgentwireError,
  isStreamName,
  isTerminal,
  openQuestions,
  parseAgUiRunInput,
  taskStream,
  type AgUiEvent,
  type AgUiRunInput,
  type Command,
  type Since,
} from '@agentwire/protocol';
import type { AuthPrincipal } from '../auth/principal.js';
import type { Security } from '../auth/security.js';
import type { CommandRouter, CommandSender } from '../commands.js';
import type { Limits } from '../limits/limits.js';
import { readJsonBody } from '../http/body.js';
import { sendError, sendJson } from '../http/respond.js';
import { runOptions } from './options.js';
import { parseInterruptId } from './interrupts.js';
import { AgUiStream, SSE_HEADERS, type AgUiStreamDeps } from './stream.js';
import { AgUiTranslator } from './translator.js';
import type { Edge } from '../edge/edge.js';

export interface AgUiSurfaceOptions extends AgUiStreamDeps {
  /** The gateway's command router (authorizing), through which runs start, answer and cancel tasks. */
  commands: CommandRouter;
  security: Security;
  limits: Limits;
}

export const AGUI_PATH = '/v1/agui';
const CANCEL_ROUTE = /^\/v1\/agui\/threads\/([^/]+)\/cancel$/;

/** Resume entries that could not be applied (answered meanwhile, unknown) are reported, not fatal. */
const NOTICE_CODES = new Set(['question_closed', 'not_found']);

/**
 * AG-UI over HTTP (docs/agui.md): `POST /v1/agui` takes a `RunAgentInput` and answers with the run
 * as AG-UI events over SSE, the request `@ag-ui/client`'s `HttpAgent` makes. A thread is a task
 * (`task:<threadId>`): a new thread starts one through the worker routing, an existing one is
 * attached to (resumed from the client's position, or from a snapshot prelude), and resume entries
 * answer the questions that paused the previous run. `POST /v1/agui/connect` only attaches, and
 * `POST /v1/agui/threads/{threadId}/cancel` cancels the thread's task.
 */
export class AgUiSurface implements Edge {
  private readonly streams = new Set<AgUiStream>();
  private readonly heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: AgUiSurfaceOptions) {
    if (options.limits.sseHeartbeatMs > 0) {
      this.heartbeat = setInterval(() => {
        for (const s of this.streams) s.beat();
      }, options.limits.sseHeartbeatMs);
      this.heartbeat.unref();
    }
  }

  get connectionCount(): number {
    return this.streams.size;
  }

  /** Serves the AG-UI routes; false for any other path, so the caller routes it elsewhere. */
  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const path = url.pathname;
    if (path !== AGUI_PATH && !path.startsWith(`${AGUI_PATH}/`)) return false;
    const cancel = CANCEL_ROUTE.exec(path);
    const work =
      path === AGUI_PATH || path === `${AGUI_PATH}/connect`
        ? this.run(req, res, url, path !== AGUI_PATH)
        : cancel
          ? this.cancel(req, res, url, cancel[1]!)
          : Promise.reject(new AgentwireError('not_found', `Nothing at ${path.slice(0, 200)}.`));
    work.catch((err: unknown) => {
      if (!(err instanceof AgentwireError)) this.options.logger.error({ err }, 'AG-UI request failed');
      if (err instanceof AgentwireError && err.code === 'method_not_allowed') res.setHeader('allow', 'POST');
      sendError(res, err);
    });
    return true;
  }

  /** Ends every run with `RUN_ERROR` `shutting_down`; clients resume elsewhere from their last seq. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const s of this.streams) s.fail(new AgentwireError('shutting_down'));
  }

  private async run(req: IncomingMessage, res: ServerResponse, url: URL, attachOnly: boolean): Promise<void> {
    if (req.method !== 'POST') throw new AgentwireError('method_not_allowed', 'Use POST.');
    const { security, snapshots, commands, limits } = this.options;
    // Who is asking, before the body is read: an unauthenticated caller gets nothing buffered.
    const principal = await security.principalOf(req, url);
    const input = parseAgUiRunInput(await readJsonBody(req, limits.maxBodyBytes));
    const options = runOptions(req, url, input);
    const stream = taskStream(input.threadId);
    if (!isStreamName(stream)) {
      throw new AgentwireError(
        'invalid_stream',
        `The threadId ${JSON.stringify(input.threadId.slice(0, 80))} does not make a task id.`,
      );
    }
    // An existing thread is read, so reading it must be allowed; a new one is started, which the
    // start command's own check (the role, the project) decides.
    const exists = (await snapshots.get(stream)).state !== null;
    if (exists && security.enabled) await security.access.assertRead(principal, stream);
    // The connection's slot and expiry first: a caller over its limit starts nothing.
    const live: { run?: AgUiStream } = {};
    const session = security.openSession({ end: (err) => live.run?.fail(err) });
    res.once('close', () => session.close());
    await session.adopt(principal);
    const sender = senderOf(principal);
    const dispatch = (command: Command) => commands.dispatch(command, sender);

    // From here on, refusals are AG-UI's: a run made of one RUN_ERROR with our code.
    let position: Since | undefined = options.since;
    const notices: AgUiEvent[] = [];
    try {
      if (!exists) {
        if (attachOnly) throw new AgentwireError('not_found', `No task ${stream} to connect to.`);
        position = { seq: 0 };
        await dispatch({
          type: 'start',
          kind: options.kind,
          taskId: input.threadId,
          title: options.title,
          input: options.input,
          ...(options.projectId !== undefined && { projectId: options.projectId }),
        }).catch(async (err: unknown) => {
          // Another run started this thread a moment ago: join it rather than fail.
          if (!(await snapshots.get(stream)).state) throw err;
        });
        // Before anything of the task is shown: the started task is one this caller may read.
        if (security.enabled) await security.access.assertRead(principal, stream);
      } else {
        // Answers first, whatever position the client gave: they are part of what it asked.
        const stoppedAt = await this.resume(input, stream, dispatch, notices);
        position ??= stoppedAt;
        if (options.cancel) {
          await dispatch({
            type: 'cancel',
            stream,
            ...(options.cancel.reason !== undefined && { reason: options.cancel.reason }),
          });
        }
      }
    } catch (err) {
      if (!(err instanceof AgentwireError)) this.options.logger.error({ err }, 'AG-UI run refused');
      refuseRun(res, err);
      return;
    }
    if (res.destroyed) return;
    // Questions still open now (the answers this request carried are recorded by now).
    const now = await snapshots.get(stream);
    // A task that has ended answers nothing more, whatever its questions still say.
    const waiting = now.state && !isTerminal(now.state) ? openQuestions(now.state) : [];
    const openAtStart = new Set(waiting.map((q) => q.questionId));
    const translator = new AgUiTranslator({
      threadId: input.threadId,
      runId: input.runId,
      stream,
      interrupts: options.interrupts,
      openAtStart,
      headAtStart: now.seq,
    });
    const opened = new AgUiStream(res, translator, this.options);
    live.run = opened;
    security.bind(opened, session);
    this.streams.add(opened);
    res.once('close', () => this.streams.delete(opened));
    await opened.start(stream, position, notices).catch((err: unknown) => {
      if (!(err instanceof AgentwireError)) this.options.logger.error({ err }, 'AG-UI run failed');
      opened.fail(err);
    });
  }

  /**
   * Applies a run's resume entries: `resolved` answers the question, `cancelled` (the client
   * declined it) cancels the task, which cannot go on without an answer. Returns the position the
   * interrupted run stopped at, which our interrupt ids carry.
   */
  private async resume(
    input: AgUiRunInput,
    stream: string,
    dispatch: (command: Command) => Promise<unknown>,
    notices: AgUiEvent[],
  ): Promise<Since | undefined> {
    let position: Since | undefined;
    for (const entry of input.resume ?? []) {
      const { questionId, at } = parseInterruptId(entry.interruptId);
      position ??= at;
      try {
        if (entry.status === 'resolved') {
          await dispatch({ type: 'answer', stream, questionId, answer: entry.payload ?? null });
        } else {
          await dispatch({ type: 'cancel', stream, reason: `The question ${questionId} was declined.` });
        }
      } catch (err) {
        if (!(err instanceof AgentwireError) || !NOTICE_CODES.has(err.code)) throw err;
        notices.push({
          type: 'CUSTOM',
          name: 'agentwire:resume_refused',
          value: { interruptId: entry.interruptId, code: err.code, message: err.message },
          timestamp: Date.now(),
        });
      }
    }
    return position;
  }

  /** `POST /v1/agui/threads/{threadId}/cancel`: stops the thread's task (optional `{reason}` body). */
  private async cancel(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    rawThread: string,
  ): Promise<void> {
    if (req.method !== 'POST') throw new AgentwireError('method_not_allowed', 'Use POST.');
    const principal = await this.options.security.principalOf(req, url);
    let threadId: string;
    try {
      threadId = decodeURIComponent(rawThread);
    } catch {
      throw new AgentwireError('invalid_stream', 'The thread id is not valid percent-encoding.');
    }
    const stream = taskStream(threadId);
    if (!isStreamName(stream))
      throw new AgentwireError('invalid_stream', 'The thread id does not make a task id.');
    const body = req.headers['content-type'] ? await readJsonBody(req, this.options.limits.maxBodyBytes) : {};
    const reason = (body as { reason?: unknown } | null)?.reason;
    if (reason !== undefined && typeof reason !== 'string') {
      throw new AgentwireError('invalid_message', 'reason must be a string.', { path: '/reason' });
    }
    const result = await this.options.commands.dispatch(
      { type: 'cancel', stream, ...(reason !== undefined && { reason }) },
      senderOf(principal),
    );
    sendJson(res, 200, { result });
  }
}

function senderOf(principal: AuthPrincipal): CommandSender {
  return principal.kind === 'open'
    ? {}
    : { principal, ...(principal.subject !== undefined && { subject: principal.subject }) };
}

/** A run refused before it began: 200 and one `RUN_ERROR` with our code, which AG-UI allows alone. */
function refuseRun(res: ServerResponse, err: unknown): void {
  const e = err instanceof AgentwireError ? err : new AgentwireError('internal');
  if (res.headersSent || res.destroyed) return;
  const body = `data: ${JSON.stringify(AgUiTranslator.refusal(e.code, e.message))}\n\n`;
  res.writeHead(200, { ...SSE_HEADERS, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
