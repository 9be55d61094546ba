import {
  AgentwireError,
  parseCommand,
  SinceSchema,
  StreamName,
  type AnyEnvelope,
  type Since,
  type TaskState,
} from '@agentwire/protocol';
import { Type } from '@sinclair/typebox';
import type { Emit, SocketIoDialect } from '../dialect.js';
import {
  agentOf,
  compact,
  isoTime,
  parsePayload,
  seedError,
  seedReply,
  taskIdFor,
  taskStreamFor,
} from '../dialect-helpers.js';

/**
 * Seeds 000/001: the MageAgent Socket.IO backend and the frontend that listened for events the
 * backend never sent. The frontend subscribes to `task:<id>` rooms and listens for the canonical
 * names (which our catalog shares, so they are emitted as they are, with structured payloads);
 * the older `agent_stream` and `orchestration_update` the seed's server sent follow for clients
 * written against that server.
 */

const Id = Type.String({ minLength: 1, maxLength: 128 });
const Subscribe = Type.Object({ room: StreamName, since: Type.Optional(SinceSchema) });
const Unsubscribe = Type.Object({ room: StreamName });
const StopAgent = Type.Object({
  taskId: Type.Optional(Id),
  room: Type.Optional(StreamName),
  agentId: Type.Optional(Id),
  reason: Type.Optional(Type.String({ maxLength: 2000 })),
});
// The seed's start_agent_task payload was not written down; these are the names such clients use.
const StartAgentTask = Type.Object({
  task: Type.Optional(Type.String({ maxLength: 20_000 })),
  prompt: Type.Optional(Type.String({ maxLength: 20_000 })),
  title: Type.Optional(Type.String({ maxLength: 500 })),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  agentType: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  taskId: Type.Optional(Id),
  projectId: Type.Optional(Id),
});

/** Fields every emitted payload carries, so a handler can tell tasks and order apart. */
function base(e: AnyEnvelope) {
  return { taskId: taskIdFor(e), seq: e.seq, timestamp: isoTime(e.time) };
}

/** The canonical event under its own name, enriched with what the seed frontend reads. */
function structured(e: AnyEnvelope, state: TaskState | null): Record<string, unknown> {
  const b = base(e);
  switch (e.type) {
    case 'task:start':
      return { ...e.data, ...b, status: 'running' };
    case 'task:progress':
      return { ...b, ...e.data, status: 'running' };
    case 'task:complete':
      return { ...b, ...e.data, result: e.data.result ?? null, status: 'completed' };
    case 'task:failed':
      return { ...b, ...e.data, reason: e.data.reason ?? 'error', status: 'failed' };
    case 'task:cancelled':
      return { ...b, ...e.data, status: 'cancelled' };
    case 'agent:spawned':
      return { ...b, ...e.data, model: e.data.model ?? null, status: 'spawned' };
    case 'agent:progress': {
      const a = agentOf(state, e.data.agentId);
      return { ...b, ...e.data, name: a.name, model: a.model, status: e.data.status ?? 'running' };
    }
    case 'agent:complete': {
      const a = agentOf(state, e.data.agentId);
      return {
        ...b,
        ...e.data,
        name: a.name,
        model: a.model,
        result: e.data.result ?? null,
        status: 'completed',
      };
    }
    case 'agent:failed': {
      const a = agentOf(state, e.data.agentId);
      return { ...b, ...e.data, name: a.name, model: a.model, status: 'failed' };
    }
    case 'agent:handoff':
      return {
        ...b,
        ...e.data,
        fromName: agentOf(state, e.data.from).name,
        toName: agentOf(state, e.data.to).name,
      };
    case 'tool:executing':
      return { ...b, ...e.data, agentName: agentOf(state, e.data.agentId).name || null, status: 'executing' };
    case 'tool:complete':
    case 'tool:failed': {
      const tool = e.data.tool ?? state?.tools[e.data.callId]?.tool ?? 'unknown';
      const agentId = e.data.agentId ?? state?.tools[e.data.callId]?.agentId;
      return compact({
        ...b,
        ...e.data,
        tool,
        agentId,
        agentName: agentOf(state, agentId).name || null,
        status: e.type === 'tool:complete' ? 'completed' : 'failed',
      });
    }
    case 'memory:recalled':
      return {
        ...b,
        ...e.data,
        agentName: agentOf(state, e.data.agentId).name || null,
        count: e.data.memories.length,
      };
    default:
      return { ...b, ...(e.data as Record<string, unknown>) };
  }
}

/** The seed server's `agent_stream` message: a line of text plus the structured event as metadata. */
function agentStream(
  agentId: string,
  content: string,
  metadata: Record<string, unknown>,
  time: number,
): Emit {
  return {
    event: 'agent_stream',
    payload: { type: 'agent_stream', agentId, content, metadata, timestamp: isoTime(time) },
  };
}

function orchestrationUpdate(message: string, metadata: Record<string, unknown>, time: number): Emit {
  return {
    event: 'orchestration_update',
    payload: { agentId: null, message, metadata, timestamp: isoTime(time) },
  };
}

/** The older events, for the lifecycle moments the seed's server reported with them. */
function legacy(e: AnyEnvelope, payload: Record<string, unknown>): Emit | undefined {
  const metadata = { event: e.type, ...payload };
  switch (e.type) {
    case 'agent:spawned':
      return agentStream(e.data.agentId, `Agent ${e.data.name} started`, metadata, e.time);
    case 'agent:progress':
      return agentStream(
        e.data.agentId,
        e.data.status ?? e.data.activity ?? 'Agent progress update',
        metadata,
        e.time,
      );
    case 'agent:complete':
      return agentStream(e.data.agentId, `Agent ${String(payload.name)} completed`, metadata, e.time);
    case 'agent:failed':
      return agentStream(
        e.data.agentId,
        `Agent ${String(payload.name)} failed: ${e.data.error.message}`,
        metadata,
        e.time,
      );
    case 'task:progress':
      return orchestrationUpdate(e.data.message ?? 'Task progress update', metadata, e.time);
    case 'task:stage':
      return orchestrationUpdate(e.data.message ?? `Stage: ${e.data.stage}`, metadata, e.time);
    default:
      return undefined;
  }
}

/**
 * The seed frontend only listens for `task:failed`, `agent:complete` and `tool:complete`; without
 * these it would wait forever on a cancelled task, a failed agent or a failed tool.
 */
function terminalAliases(e: AnyEnvelope, payload: Record<string, unknown>): Emit[] {
  switch (e.type) {
    case 'task:cancelled':
      if (e.data.agentId !== undefined) return [];
      return [
        {
          event: 'task:failed',
          payload: {
            ...payload,
            error: { message: e.data.reason ?? 'The task was cancelled.', code: 'cancelled' },
            reason: 'cancelled',
          },
        },
      ];
    case 'agent:failed':
      return [{ event: 'agent:complete', payload: { ...payload, result: null } }];
    case 'tool:failed':
      return [{ event: 'tool:complete', payload }];
    default:
      return [];
  }
}

/** A late joiner's snapshot, replayed as the events that would have built it (each marked `replay`). */
function replay(state: TaskState): Emit[] {
  const b = { taskId: state.taskId, seq: state.seq, replay: true };
  const at = (ms: number | undefined) => isoTime(ms ?? state.updatedAt);
  const out: Emit[] = [];
  if (state.startedAt !== undefined) {
    const start = compact({
      ...b,
      title: state.title,
      kind: state.kind,
      projectId: state.projectId,
      stages: state.stages,
      estimatedMs: state.estimatedMs,
    });
    out.push({
      event: 'task:start',
      payload: { ...start, status: 'running', timestamp: at(state.startedAt) },
    });
  }
  for (const id of state.agentOrder) {
    const a = state.agents[id];
    if (!a) continue;
    const agent = compact({
      ...b,
      agentId: a.id,
      name: a.name,
      model: a.model ?? null,
      role: a.role,
      parentId: a.parentId,
    });
    out.push({
      event: 'agent:spawned',
      payload: { ...agent, status: 'spawned', timestamp: at(a.startedAt) },
    });
    if (
      a.status === 'running' &&
      (a.detail !== undefined || a.activity !== undefined || a.percent !== undefined)
    ) {
      const progress = compact({ activity: a.activity, percent: a.percent });
      out.push({
        event: 'agent:progress',
        payload: { ...agent, ...progress, status: a.detail ?? 'running', timestamp: at(undefined) },
      });
    } else if (a.status !== 'running') {
      const error = a.error ? { error: a.error } : {};
      out.push({
        event: 'agent:complete',
        payload: { ...agent, ...error, result: null, status: a.status, timestamp: at(a.endedAt) },
      });
    }
  }
  for (const id of state.toolOrder) {
    const t = state.tools[id];
    if (!t) continue;
    const agentName = agentOf(state, t.agentId).name || null;
    const tool = compact({
      ...b,
      callId: t.callId,
      tool: t.tool,
      agentId: t.agentId,
      agentName,
      args: t.args,
      attempt: t.attempt,
    });
    out.push({
      event: 'tool:executing',
      payload: { ...tool, status: 'executing', timestamp: at(t.startedAt) },
    });
    if (t.status !== 'running') {
      const ended = compact({ durationMs: t.durationMs, result: t.result, error: t.error });
      out.push({
        event: 'tool:complete',
        payload: { ...tool, ...ended, status: t.status, timestamp: at(t.endedAt) },
      });
    }
  }
  if (state.status === 'completed') {
    out.push({
      event: 'task:complete',
      payload: compact({
        ...b,
        result: state.result ?? null,
        summary: state.summary,
        status: 'completed',
        timestamp: at(state.endedAt),
      }),
    });
  } else if (state.status === 'failed' || state.status === 'cancelled') {
    const error = state.error ?? {
      message: state.cancelReason ?? 'The task was cancelled.',
      code: 'cancelled',
    };
    const reason = state.status === 'cancelled' ? 'cancelled' : (state.failureReason ?? 'error');
    out.push({
      event: 'task:failed',
      payload: { ...b, error, reason, status: state.status, timestamp: at(state.endedAt) },
    });
  }
  return out;
}

/** The stream a stop_agent names: its task, its room, or the one task this socket watches. */
function stopTarget(p: { taskId?: string; room?: string }, streams: readonly string[]): string {
  if (p.taskId !== undefined) return taskStreamFor(p.taskId);
  if (p.room !== undefined) return p.room;
  if (streams.length === 1) return streams[0]!;
  throw new AgentwireError(
    'invalid_message',
    'stop_agent needs taskId or room when the socket is not subscribed to exactly one task.',
  );
}

export const mageagentDialect: SocketIoDialect = {
  name: 'mageagent',
  needsState: true,
  inbound: {
    subscribe(payload) {
      const p = parsePayload<{ room: string; since?: Since }>(Subscribe, payload, 'subscribe');
      // A seed client gets the snapshot replayed; `since` (our extension) resumes exactly, and
      // falls back to the replay when that history is gone.
      return [
        {
          kind: 'subscribe',
          stream: p.room,
          ...(p.since && { since: p.since }),
          snapshot: 'replay',
          mode: 'replace',
        },
      ];
    },
    unsubscribe(payload) {
      const p = parsePayload<{ room: string }>(Unsubscribe, payload, 'unsubscribe');
      return [{ kind: 'unsubscribe', stream: p.room }];
    },
    stop_agent(payload, ctx) {
      const p = parsePayload<{ taskId?: string; room?: string; agentId?: string; reason?: string }>(
        StopAgent,
        payload,
        'stop_agent',
      );
      const command = parseCommand(
        compact({ type: 'cancel', stream: stopTarget(p, ctx.streams), agentId: p.agentId, reason: p.reason }),
      );
      return [{ kind: 'command', command }];
    },
    start_agent_task(payload) {
      const p = parsePayload<{
        task?: string;
        prompt?: string;
        title?: string;
        kind?: string;
        agentType?: string;
        taskId?: string;
        projectId?: string;
      }>(StartAgentTask, payload, 'start_agent_task');
      const title = (p.title ?? p.task ?? p.prompt)?.slice(0, 500);
      const command = parseCommand(
        compact({
          type: 'start',
          kind: p.kind ?? p.agentType ?? 'agent',
          taskId: p.taskId,
          title,
          projectId: p.projectId,
          input: payload,
        }),
      );
      return [{ kind: 'command', command }];
    },
  },
  event(e, state) {
    const payload = structured(e, state);
    const out: Emit[] = [{ event: e.type, payload }];
    out.push(...terminalAliases(e, payload));
    const old = legacy(e, payload);
    if (old) out.push(old);
    return out;
  },
  snapshot(use, _stream, state) {
    return use === 'replay' && state ? replay(state) : [];
  },
  reply: seedReply,
  error: seedError,
};
