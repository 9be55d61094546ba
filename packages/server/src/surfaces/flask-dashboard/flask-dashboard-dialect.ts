import {
  AgentwireError,
  parseCommand,
  SYSTEM_STREAM,
  TASK_STREAM_PREFIX,
  type AnyEnvelope,
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
 * Seed 003: the Flask-SocketIO dashboard. Clients join rooms by name and receive snake_case
 * payloads. What each room carries:
 * - `chat`: conversation across all tasks — watchers' messages (`chat_message`), agents' replies
 *   (`typing_indicator` while an assistant message streams, `chat_response` with its full text).
 * - `monitoring`: agent and tool activity across all tasks (`agent_started`, `agent_completed`,
 *   `tool_executed`, `agent_handoff`) plus the `system` stream (`health_update`,
 *   `performance_update`, `alert_created`).
 * - `admin`: the `system` stream, and `user_joined` / `user_left` (with user ids) for every room;
 *   only an admin may join it.
 * Room feeds are live only: a dashboard shows what happens from now on (see docs/dialects.md).
 */

export const FLASK_ROOMS = ['chat', 'monitoring', 'admin'] as const;
const TASKS = { prefix: TASK_STREAM_PREFIX };
const SYSTEM = { stream: SYSTEM_STREAM };

const Id = Type.String({ minLength: 1, maxLength: 128 });
const ChatMessage = Type.Object({
  message: Type.String({ minLength: 1, maxLength: 20_000 }),
  session_id: Type.Optional(Id),
  task_id: Type.Optional(Id),
  taskId: Type.Optional(Id),
  user_id: Type.Optional(Type.String({ maxLength: 256 })),
});

/** `join_room` takes `{room}` (Flask-SocketIO's habit) or the bare room name. */
function roomOf(payload: unknown, what: string): string {
  const room =
    typeof payload === 'object' && payload !== null ? (payload as { room?: unknown }).room : payload;
  if (typeof room === 'string' && (FLASK_ROOMS as readonly string[]).includes(room)) return room;
  const shown = typeof room === 'string' ? JSON.stringify(room.slice(0, 64)) : typeof room;
  throw new AgentwireError(
    'invalid_message',
    `${what}: unknown room ${shown}; rooms are ${FLASK_ROOMS.join(', ')}.`,
    { path: '/room' },
  );
}

const chat = (e: AnyEnvelope, event: string, fields: Record<string, unknown>): Emit => ({
  event,
  payload: compact({
    ...fields,
    task_id: taskIdFor(e),
    session_id: taskIdFor(e),
    timestamp: isoTime(e.time),
  }),
  rooms: ['chat'],
});

const monitoring = (e: AnyEnvelope, event: string, fields: Record<string, unknown>): Emit => ({
  event,
  payload: compact({ ...fields, task_id: taskIdFor(e), timestamp: isoTime(e.time) }),
  rooms: ['monitoring'],
});

const system = (e: AnyEnvelope, event: string, fields: Record<string, unknown>): Emit => ({
  event,
  payload: compact({ ...fields, timestamp: isoTime(e.time) }),
  rooms: ['monitoring', 'admin'],
});

function toolAgent(state: TaskState | null, callId: string, agentId: string | undefined) {
  const id = agentId ?? state?.tools[callId]?.agentId;
  return { agent_id: id, agent_name: id === undefined ? null : agentOf(state, id).name };
}

export const flaskDashboardDialect: SocketIoDialect = {
  name: 'flask-dashboard',
  needsState: true,
  rooms: {
    chat: { feeds: [TASKS] },
    monitoring: { feeds: [TASKS, SYSTEM] },
    admin: { feeds: [SYSTEM], role: 'admin' },
  },
  inbound: {
    join_room: (payload) => [{ kind: 'join', room: roomOf(payload, 'join_room') }],
    leave_room: (payload) => [{ kind: 'leave', room: roomOf(payload, 'leave_room') }],
    chat_message(payload) {
      const p = parsePayload<{ message: string; session_id?: string; task_id?: string; taskId?: string }>(
        ChatMessage,
        payload,
        'chat_message',
      );
      const taskId = p.task_id ?? p.taskId ?? p.session_id;
      if (taskId === undefined) {
        throw new AgentwireError(
          'invalid_message',
          'chat_message needs task_id (or session_id): the task the message is for.',
        );
      }
      return [
        {
          kind: 'command',
          command: parseCommand({ type: 'message', stream: taskStreamFor(taskId), text: p.message }),
        },
      ];
    },
  },
  event(e, state) {
    switch (e.type) {
      case 'chat:message':
        return [
          chat(e, 'chat_message', {
            message: e.data.text,
            user_id: e.data.from ?? null,
            message_id: e.data.messageId,
          }),
        ];
      case 'message:start': {
        if (e.data.role !== 'assistant') return [];
        const a = agentOf(state, e.data.agentId);
        return [
          chat(e, 'typing_indicator', {
            agent_id: e.data.agentId,
            agent_name: a.name || null,
            message_id: e.data.messageId,
            typing: true,
          }),
        ];
      }
      case 'message:end': {
        const m = state?.messages[e.data.messageId];
        if (m && m.role !== 'assistant') return [];
        const a = agentOf(state, m?.agentId);
        const who = { agent_id: m?.agentId, agent_name: a.name || null, message_id: e.data.messageId };
        return [
          chat(e, 'typing_indicator', { ...who, typing: false }),
          chat(e, 'chat_response', { ...who, message: m?.text ?? '' }),
        ];
      }
      case 'agent:spawned': {
        const d = e.data;
        const details = compact({
          task_id: taskIdFor(e),
          model: d.model,
          role: d.role,
          parent_id: d.parentId,
        });
        return [
          monitoring(e, 'agent_started', {
            agent_name: d.name,
            agent_id: d.agentId,
            activity: 'started',
            details,
          }),
        ];
      }
      case 'agent:complete': {
        const details = compact({ task_id: taskIdFor(e), result: e.data.result, summary: e.data.summary });
        return [
          monitoring(e, 'agent_completed', {
            agent_name: agentOf(state, e.data.agentId).name,
            agent_id: e.data.agentId,
            activity: 'completed',
            details,
          }),
        ];
      }
      case 'agent:failed': {
        const details = { task_id: taskIdFor(e), error: e.data.error };
        return [
          monitoring(e, 'agent_completed', {
            agent_name: agentOf(state, e.data.agentId).name,
            agent_id: e.data.agentId,
            activity: 'failed',
            details,
          }),
        ];
      }
      case 'tool:complete':
      case 'tool:failed': {
        const d = e.data;
        const tool = d.tool ?? state?.tools[d.callId]?.tool ?? 'unknown';
        const outcome =
          e.type === 'tool:complete'
            ? { status: 'completed', result: e.data.result }
            : { status: 'failed', error: e.data.error };
        return [
          monitoring(e, 'tool_executed', {
            ...toolAgent(state, d.callId, d.agentId),
            tool,
            call_id: d.callId,
            duration_ms: d.durationMs,
            ...outcome,
          }),
        ];
      }
      case 'agent:handoff': {
        const d = e.data;
        return [
          monitoring(e, 'agent_handoff', {
            from_agent: agentOf(state, d.from).name,
            to_agent: agentOf(state, d.to).name,
            from_agent_id: d.from,
            to_agent_id: d.to,
            reason: d.reason,
          }),
        ];
      }
      case 'system:health':
        return [system(e, 'health_update', { status: e.data.status, checks: e.data.checks })];
      case 'system:performance':
        return [system(e, 'performance_update', { metrics: e.data.metrics })];
      case 'system:alert':
        return [
          system(e, 'alert_created', {
            severity: e.data.severity,
            message: e.data.message,
            source: e.data.source,
          }),
        ];
      default:
        return [];
    }
  },
  presence(kind, who, room, time) {
    return {
      event: kind === 'joined' ? 'user_joined' : 'user_left',
      payload: { user_id: who.userId, sid: who.sid, room, timestamp: isoTime(time) },
      rooms: [room, 'admin'],
    };
  },
  reply: seedReply,
  error: seedError,
};
