import {
  AgentwireError,
  openQuestions,
  parseCommand,
  type AnyEnvelope,
  type TaskState,
} from '@agentwire/protocol';
import { Type } from '@sinclair/typebox';
import type { Emit, Handshake, Intent, SocketIoDialect } from '../dialect.js';
import {
  agentOf,
  compact,
  errorBody,
  parsePayload,
  seedReply,
  taskIdFor,
  taskStreamFor,
} from '../dialect-helpers.js';

/**
 * Seed 002: the progress-streaming guide. A client connects with `query: { requestId }` and is
 * joined to the Socket.IO room `request:<id>`; the request's events come from the stream
 * `task:<requestId>` (a request is a task). Tool calls are the guide's steps: `step` is a tool
 * call's position in the task, so `setStepStatus(step, …)` lines up across `running` and
 * `completed`. Every message also carries `requestId` and the event's `seq`.
 */

const RequestId = Type.String({ minLength: 1, maxLength: 128 });
const Start = Type.Object({
  requestId: Type.Optional(RequestId),
  userQuery: Type.Optional(Type.String({ maxLength: 20_000 })),
  context: Type.Optional(Type.Unknown()),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
const Cancel = Type.Object({
  requestId: Type.Optional(RequestId),
  reason: Type.Optional(Type.String({ maxLength: 2000 })),
});
const Feedback = Type.Object({
  requestId: Type.Optional(RequestId),
  questionId: Type.String({ minLength: 1, maxLength: 128 }),
  answer: Type.Unknown(),
});
const Rejoin = Type.Object({ requestId: Type.Optional(RequestId) });

/** The request a message is about: its own `requestId`, else the one the socket connected with. */
function requestOf(p: { requestId?: string } | undefined, handshake: Handshake): string {
  const id = p?.requestId ?? handshake.query.requestId;
  if (typeof id !== 'string' || id === '') {
    throw new AgentwireError(
      'invalid_message',
      'No requestId: pass one in the message or in the connection query.',
    );
  }
  taskStreamFor(id);
  return id;
}

/** Client payloads are optional for cancel and rejoin; `undefined` means "the connection's request". */
function optional<T>(
  schema: Parameters<typeof parsePayload>[0],
  payload: unknown,
  what: string,
): T | undefined {
  return payload === undefined || payload === null ? undefined : parsePayload<T>(schema, payload, what);
}

const room = (requestId: string) => `request:${requestId}`;

function progress(
  e: AnyEnvelope,
  agent: string | null,
  step: number | null,
  status: 'running' | 'completed' | 'failed',
  data: Record<string, unknown>,
): Emit {
  const requestId = taskIdFor(e);
  return {
    event: 'progress',
    payload: {
      type: 'progress',
      agent,
      step,
      status,
      data: compact({ event: e.type, ...data }),
      requestId,
      seq: e.seq,
    },
  };
}

function errorMessage(
  e: AnyEnvelope,
  agent: string | null,
  message: string,
  extra: Record<string, unknown>,
): Emit {
  return {
    event: 'error',
    payload: compact({ type: 'error', agent, message, ...extra, requestId: taskIdFor(e), seq: e.seq }),
  };
}

function completed(
  e: AnyEnvelope,
  status: string,
  result: unknown,
  extra: Record<string, unknown> = {},
): Emit {
  return {
    event: 'request.completed',
    payload: compact({
      type: 'request.completed',
      requestId: taskIdFor(e),
      result: result ?? null,
      status,
      ...extra,
      seq: e.seq,
    }),
  };
}

/** A tool call's step number: its 1-based position among the task's tool calls. */
function stepOf(state: TaskState | null, callId: string): number | null {
  const i = state?.toolOrder.indexOf(callId) ?? -1;
  return i < 0 ? null : i + 1;
}

function toolAgent(state: TaskState | null, callId: string, agentId: string | undefined): string | null {
  const id = agentId ?? state?.tools[callId]?.agentId;
  return id === undefined ? null : agentOf(state, id).name;
}

/** The `state` message: the snapshot in the guide's vocabulary, plus the full task state. */
function stateMessage(requestId: string, state: TaskState | null, seq: number, epoch: string): Emit {
  const agents = (state?.agentOrder ?? []).flatMap((id) => {
    const a = state?.agents[id];
    return a
      ? [
          compact({
            agent: a.name,
            agentId: a.id,
            model: a.model,
            status: a.status,
            activity: a.activity,
            percent: a.percent,
          }),
        ]
      : [];
  });
  const steps = (state?.toolOrder ?? []).flatMap((id, i) => {
    const t = state?.tools[id];
    if (!t) return [];
    const agent = t.agentId === undefined ? null : agentOf(state, t.agentId).name;
    return [
      compact({
        step: i + 1,
        agent,
        tool: t.tool,
        callId: t.callId,
        status: t.status,
        result: t.result,
        error: t.error,
      }),
    ];
  });
  const questions = state
    ? openQuestions(state).map((q) =>
        compact({ questionId: q.questionId, prompt: q.prompt, options: q.options, agentId: q.agentId }),
      )
    : [];
  return {
    event: 'state',
    payload: compact({
      type: 'state',
      requestId,
      seq,
      epoch,
      status: state?.status ?? 'pending',
      stage: state?.stage,
      progress: state?.progress,
      result: state?.result,
      error: state?.error,
      agents,
      steps,
      questions,
      task: state,
    }),
  };
}

export const progressDialect: SocketIoDialect = {
  name: 'progress',
  needsState: true,
  connect(handshake) {
    const id = handshake.query.requestId;
    if (id === undefined) return [];
    const requestId = requestOf(undefined, handshake);
    // Live from here: the guide's client asks for `state` with `rejoin` when it needs the past.
    return [
      { kind: 'join', room: room(requestId) },
      { kind: 'subscribe', stream: taskStreamFor(requestId), mode: 'keep' },
    ];
  },
  inbound: {
    start(payload, ctx) {
      const p = parsePayload<{ requestId?: string; userQuery?: string; context?: unknown; kind?: string }>(
        Start,
        payload,
        'start',
      );
      const requestId = requestOf(p, ctx.handshake);
      const command = parseCommand(
        compact({
          type: 'start',
          kind: p.kind ?? 'request',
          taskId: requestId,
          title: p.userQuery?.slice(0, 500),
          input: compact({ userQuery: p.userQuery, context: p.context }),
        }),
      );
      const intents: Intent[] = [
        { kind: 'join', room: room(requestId) },
        { kind: 'subscribe', stream: taskStreamFor(requestId), mode: 'keep' },
        { kind: 'command', command },
      ];
      return intents;
    },
    cancel(payload, ctx) {
      const p = optional<{ requestId?: string; reason?: string }>(Cancel, payload, 'cancel');
      const stream = taskStreamFor(requestOf(p, ctx.handshake));
      return [
        { kind: 'command', command: parseCommand(compact({ type: 'cancel', stream, reason: p?.reason })) },
      ];
    },
    feedback(payload, ctx) {
      const p = parsePayload<{ requestId?: string; questionId: string; answer: unknown }>(
        Feedback,
        payload,
        'feedback',
      );
      const stream = taskStreamFor(requestOf(p, ctx.handshake));
      return [
        {
          kind: 'command',
          command: parseCommand({ type: 'answer', stream, questionId: p.questionId, answer: p.answer }),
        },
      ];
    },
    rejoin(payload, ctx) {
      const p = optional<{ requestId?: string }>(Rejoin, payload, 'rejoin');
      const requestId = requestOf(p, ctx.handshake);
      // Starting over from the snapshot makes `state` and the events after it one gapless sequence.
      return [
        { kind: 'join', room: room(requestId) },
        { kind: 'subscribe', stream: taskStreamFor(requestId), snapshot: 'state', mode: 'replace' },
      ];
    },
  },
  event(e, state) {
    switch (e.type) {
      case 'agent:spawned':
        return [
          progress(e, e.data.name, null, 'running', {
            agentId: e.data.agentId,
            model: e.data.model,
            role: e.data.role,
          }),
        ];
      case 'agent:progress': {
        const d = e.data;
        return [
          progress(e, agentOf(state, d.agentId).name, null, 'running', {
            agentId: d.agentId,
            status: d.status,
            activity: d.activity,
            percent: d.percent,
          }),
        ];
      }
      case 'agent:complete':
        return [
          {
            event: 'agent.completed',
            payload: {
              type: 'agent.completed',
              agent: agentOf(state, e.data.agentId).name,
              requestId: taskIdFor(e),
              data: compact({ agentId: e.data.agentId, result: e.data.result, summary: e.data.summary }),
              seq: e.seq,
            },
          },
        ];
      case 'agent:failed':
        return [
          errorMessage(e, agentOf(state, e.data.agentId).name, e.data.error.message, {
            code: e.data.error.code,
            agentId: e.data.agentId,
          }),
        ];
      case 'tool:executing': {
        const d = e.data;
        const step = stepOf(state, d.callId);
        return [
          progress(e, toolAgent(state, d.callId, d.agentId), step, 'running', {
            stepId: d.callId,
            stepOrder: step,
            tool: d.tool,
            args: d.args,
            attempt: d.attempt,
          }),
        ];
      }
      case 'tool:complete': {
        const d = e.data;
        const step = stepOf(state, d.callId);
        const tool = d.tool ?? state?.tools[d.callId]?.tool;
        return [
          progress(e, toolAgent(state, d.callId, d.agentId), step, 'completed', {
            stepId: d.callId,
            stepOrder: step,
            tool,
            result: d.result,
            durationMs: d.durationMs,
          }),
        ];
      }
      case 'tool:failed': {
        const d = e.data;
        const step = stepOf(state, d.callId);
        const agent = toolAgent(state, d.callId, d.agentId);
        const tool = d.tool ?? state?.tools[d.callId]?.tool;
        return [
          progress(e, agent, step, 'failed', {
            stepId: d.callId,
            stepOrder: step,
            tool,
            error: d.error,
            retryable: d.retryable,
          }),
          errorMessage(e, agent, d.error.message, { step, code: d.error.code }),
        ];
      }
      case 'task:progress':
        return [progress(e, null, e.data.current ?? null, 'running', { ...e.data })];
      case 'task:stage': {
        const i = state?.stages?.indexOf(e.data.stage) ?? -1;
        return [
          progress(e, null, i < 0 ? null : i + 1, 'running', {
            stage: e.data.stage,
            message: e.data.message,
          }),
        ];
      }
      case 'question:asked': {
        const d = e.data;
        const agent = d.agentId === undefined ? null : agentOf(state, d.agentId).name;
        // The guide answers with `feedback {questionId, answer}` but never said how a question arrives.
        return [
          {
            event: 'question',
            payload: compact({ type: 'question', requestId: taskIdFor(e), agent, ...d, seq: e.seq }),
          },
        ];
      }
      case 'task:complete':
        return [completed(e, 'completed', e.data.result, { summary: e.data.summary })];
      case 'task:failed':
        return [
          errorMessage(e, null, e.data.error.message, { code: e.data.error.code }),
          completed(e, 'failed', null, { error: e.data.error }),
        ];
      case 'task:cancelled':
        if (e.data.agentId !== undefined) {
          return [
            progress(e, agentOf(state, e.data.agentId).name, null, 'failed', {
              agentId: e.data.agentId,
              cancelled: true,
              reason: e.data.reason,
            }),
          ];
        }
        return [completed(e, 'cancelled', null, { reason: e.data.reason, by: e.data.by })];
      default:
        return [];
    }
  },
  snapshot(use, stream, state, result) {
    if (use !== 'state') return [];
    return [stateMessage(taskIdFor({ stream }), state, result.snapshot?.seq ?? result.seq, result.epoch)];
  },
  reply: seedReply,
  error(err, event) {
    // The guide's own error message shape, with our code so a client can branch on it.
    return { event: 'error', payload: { type: 'error', ...errorBody(err), event } };
  },
};
