import { assertStreamName, taskIdOf, type AnyEnvelope, type TaskState } from '@agentwire/protocol';
import { agentOf, compact, isoTime } from '../dialect-helpers.js';

/**
 * Seed 004: the agent-swarm live terminal. A plain WebSocket at
 * `/ws/admin/agent-swarm/{projectId}` (and an HTTP polling fallback serving the same messages)
 * receives JSON messages `{type, projectId, timestamp, seq, data}`; several ready at once travel
 * as `{type: 'batch', messages}`. A project is its project stream by default: `{projectId}` →
 * `project:{projectId}`, where every task of the project writes (the messages of each task's events
 * carry its `taskId`); `task:{projectId}` maps a project id to one task instead. Pure functions
 * only: the WebSocket (swarm-websocket.ts) and the polling fallback (swarm-polling.ts) own the
 * connections.
 */

export type SwarmMessageType =
  | 'connection_established'
  | 'project_started'
  | 'project_progress'
  | 'agent_status_update'
  | 'workflow_stage_update'
  | 'workflow_log'
  | 'project_completed'
  | 'project_error';

export interface SwarmMessage {
  type: SwarmMessageType;
  projectId: string;
  timestamp: string;
  /** The seq of the event the message comes from; polling resumes `after` it. */
  seq: number;
  data: Record<string, unknown>;
  /** Set on messages rebuilt from a snapshot rather than sent as the event happened. */
  replay?: true;
}

export interface SwarmBatch {
  type: 'batch';
  messages: SwarmMessage[];
}

export const DEFAULT_SWARM_STREAM = 'project:{projectId}';

/** The stream a project's terminal watches, from a template such as `task:{projectId}`. */
export function swarmStreamFor(template: string, projectId: string): string {
  return assertStreamName(template.replaceAll('{projectId}', projectId));
}

/** One message, or a batch when several are ready at once; undefined when there is nothing to send. */
export function swarmFrame(messages: SwarmMessage[]): SwarmMessage | SwarmBatch | undefined {
  if (messages.length === 0) return undefined;
  return messages.length === 1 ? messages[0] : { type: 'batch', messages };
}

export function connectionEstablished(
  projectId: string,
  info: { stream: string; epoch: string; seq: number; recovered: boolean; status: string },
  time: number,
): SwarmMessage {
  return {
    type: 'connection_established',
    projectId,
    timestamp: isoTime(time),
    seq: info.seq,
    data: { ...info, transport: 'websocket' },
  };
}

const LEVELS: Record<string, string> = { info: 'info', warning: 'warn', critical: 'error' };

/** The terminal messages one canonical event becomes (most become exactly one). */
export function swarmMessages(e: AnyEnvelope, state: TaskState | null, projectId: string): SwarmMessage[] {
  const msg = (type: SwarmMessageType, data: Record<string, unknown>): SwarmMessage => ({
    type,
    projectId,
    timestamp: isoTime(e.time),
    seq: e.seq,
    data: compact({ ...data, event: e.type }),
  });
  const log = (level: string, message: string, extra: Record<string, unknown> = {}) =>
    msg('workflow_log', { level, message, ...extra });
  const name = (agentId: string | undefined) =>
    agentId === undefined ? undefined : agentOf(state, agentId).name;
  switch (e.type) {
    case 'task:start': {
      const d = e.data;
      const estimated =
        d.estimatedMs === undefined
          ? {}
          : { estimatedMs: d.estimatedMs, estimatedDurationSeconds: Math.round(d.estimatedMs / 1000) };
      return [
        msg('project_started', {
          taskId: d.taskId,
          title: d.title,
          kind: d.kind,
          stages: d.stages,
          ...estimated,
          status: 'running',
        }),
      ];
    }
    case 'task:progress':
      return [msg('project_progress', { progress: e.data.percent, ...e.data })];
    case 'task:stage': {
      const index = state?.stages?.indexOf(e.data.stage) ?? -1;
      return [
        msg('workflow_stage_update', {
          stage: e.data.stage,
          message: e.data.message,
          stageIndex: index < 0 ? undefined : index,
          totalStages: state?.stages?.length,
        }),
      ];
    }
    case 'task:complete': {
      const durationMs = state?.startedAt === undefined ? undefined : e.time - state.startedAt;
      return [
        msg('project_completed', {
          status: 'completed',
          result: e.data.result,
          summary: e.data.summary,
          durationMs,
        }),
      ];
    }
    case 'task:failed':
      return [
        msg('project_error', {
          status: 'failed',
          error: e.data.error.message,
          code: e.data.error.code,
          reason: e.data.reason ?? 'error',
        }),
      ];
    case 'task:cancelled': {
      const d = e.data;
      if (d.agentId !== undefined) {
        return [
          msg('agent_status_update', {
            agentId: d.agentId,
            agentName: name(d.agentId),
            status: 'cancelled',
            reason: d.reason,
          }),
        ];
      }
      return [
        msg('project_error', {
          status: 'cancelled',
          error: d.reason ?? 'The project was cancelled.',
          code: 'cancelled',
          reason: 'cancelled',
          by: d.by,
        }),
      ];
    }
    case 'agent:spawned': {
      const d = e.data;
      return [
        msg('agent_status_update', {
          agentId: d.agentId,
          agentName: d.name,
          model: d.model,
          role: d.role,
          parentId: d.parentId,
          status: 'spawned',
        }),
      ];
    }
    case 'agent:progress': {
      const d = e.data;
      const a = agentOf(state, d.agentId);
      return [
        msg('agent_status_update', {
          agentId: d.agentId,
          agentName: a.name,
          model: a.model ?? undefined,
          status: 'running',
          detail: d.status,
          activity: d.activity,
          percent: d.percent,
        }),
      ];
    }
    case 'agent:complete': {
      const d = e.data;
      return [
        msg('agent_status_update', {
          agentId: d.agentId,
          agentName: name(d.agentId),
          status: 'completed',
          summary: d.summary,
          result: d.result,
        }),
      ];
    }
    case 'agent:failed':
      return [
        msg('agent_status_update', {
          agentId: e.data.agentId,
          agentName: name(e.data.agentId),
          status: 'failed',
          error: e.data.error.message,
        }),
      ];
    case 'agent:handoff': {
      const d = e.data;
      const reason = d.reason === undefined ? '' : `: ${d.reason}`;
      return [
        log('info', `${name(d.from)} handed off to ${name(d.to)}${reason}`, { agentId: d.from, to: d.to }),
      ];
    }
    case 'tool:executing': {
      const d = e.data;
      const who = name(d.agentId);
      return [
        log('info', `${who ? `${who} → ` : ''}${d.tool}`, {
          agentId: d.agentId,
          agentName: who,
          tool: d.tool,
          callId: d.callId,
          attempt: d.attempt,
        }),
      ];
    }
    case 'tool:complete':
    case 'tool:failed': {
      const d = e.data;
      const tool = d.tool ?? state?.tools[d.callId]?.tool ?? 'tool';
      const agentId = d.agentId ?? state?.tools[d.callId]?.agentId;
      const who = name(agentId);
      const prefix = who ? `${who} ` : '';
      const fields = { agentId, agentName: who, tool, callId: d.callId, durationMs: d.durationMs };
      return e.type === 'tool:complete'
        ? [log('info', `${prefix}${tool} completed in ${Math.round(e.data.durationMs)} ms`, fields)]
        : [log('error', `${prefix}${tool} failed: ${e.data.error.message}`, fields)];
    }
    case 'log:entry': {
      const d = e.data;
      return [log(d.level, d.message, { agentId: d.agentId, agentName: name(d.agentId), fields: d.fields })];
    }
    case 'message:end': {
      const m = state?.messages[e.data.messageId];
      if (!m || m.text === '') return [];
      return [
        log('info', m.text, {
          agentId: m.agentId,
          agentName: name(m.agentId),
          role: m.role,
          messageId: m.messageId,
        }),
      ];
    }
    case 'chat:message':
      return [log('info', e.data.text, { from: e.data.from, messageId: e.data.messageId })];
    case 'question:asked':
      return [
        log('warn', `Question: ${e.data.prompt}`, {
          questionId: e.data.questionId,
          agentId: e.data.agentId,
          options: e.data.options,
        }),
      ];
    case 'question:answered':
      return [
        log('info', e.data.timedOut ? 'Question timed out' : 'Question answered', {
          questionId: e.data.questionId,
          by: e.data.by,
        }),
      ];
    case 'memory:recalled': {
      const who = name(e.data.agentId);
      return [
        log('debug', `${who ? `${who} ` : ''}recalled ${e.data.memories.length} memories`, {
          agentId: e.data.agentId,
          query: e.data.query,
        }),
      ];
    }
    case 'system:alert':
      return [
        log(LEVELS[e.data.severity] ?? 'info', e.data.message, {
          source: e.data.source,
          severity: e.data.severity,
        }),
      ];
    case 'custom:event':
      return [log('info', e.data.name, { payload: e.data.payload })];
    default:
      // Token deltas, message starts, health and performance samples are not terminal lines.
      return [];
  }
}

/** The task event a project stream's `project:event` carries; any other event is its own origin. */
export function originOf(e: AnyEnvelope): AnyEnvelope {
  return e.type === 'project:event' ? (e.data as unknown as AnyEnvelope) : e;
}

/** The task streams whose states the messages of `events` draw on (agent names, stages). */
export function taskStreamsOf(events: readonly AnyEnvelope[]): Set<string> {
  const streams = new Set<string>();
  for (const e of events) {
    const origin = originOf(e);
    if (taskIdOf(origin.stream) !== undefined) streams.add(origin.stream);
  }
  return streams;
}

/**
 * The messages of events of the terminal's stream. A project stream's copies become the messages
 * of the task events they carry, tagged with the task's id, under the project stream's seq (the
 * position a poller resumes after).
 */
export function swarmStreamMessages(
  events: readonly AnyEnvelope[],
  states: ReadonlyMap<string, TaskState | null>,
  projectId: string,
): SwarmMessage[] {
  return events.flatMap((e) => {
    const origin = originOf(e);
    const messages = swarmMessages(origin, states.get(origin.stream) ?? null, projectId);
    if (origin === e) return messages;
    const taskId = taskIdOf(origin.stream);
    return messages.map((m) => ({ ...m, seq: e.seq, data: { ...m.data, taskId } }));
  });
}

/**
 * What a terminal that connects to a project stream draws first: the snapshot messages of the
 * project's live tasks, each tagged with its task id, at the project stream's position `seq`.
 */
export function swarmProjectSnapshot(
  states: readonly TaskState[],
  projectId: string,
  seq: number,
): SwarmMessage[] {
  return states.flatMap((state) =>
    swarmSnapshot(state, projectId).map((m) => ({ ...m, seq, data: { ...m.data, taskId: state.taskId } })),
  );
}

/** What a terminal that connects mid-project needs to draw it: the snapshot as messages. */
export function swarmSnapshot(state: TaskState | null, projectId: string): SwarmMessage[] {
  if (!state) return [];
  const msg = (
    type: SwarmMessageType,
    time: number,
    data: Record<string, unknown>,
    seq = state.seq,
  ): SwarmMessage => ({
    type,
    projectId,
    timestamp: isoTime(time),
    seq,
    data: compact(data),
    replay: true,
  });
  const out: SwarmMessage[] = [];
  if (state.startedAt !== undefined) {
    const estimated =
      state.estimatedMs === undefined
        ? {}
        : { estimatedMs: state.estimatedMs, estimatedDurationSeconds: Math.round(state.estimatedMs / 1000) };
    out.push(
      msg('project_started', state.startedAt, {
        taskId: state.taskId,
        title: state.title,
        kind: state.kind,
        stages: state.stages,
        ...estimated,
        status: state.status,
      }),
    );
  }
  if (state.stage !== undefined) {
    const index = state.stages?.indexOf(state.stage) ?? -1;
    out.push(
      msg('workflow_stage_update', state.updatedAt, {
        stage: state.stage,
        stageIndex: index < 0 ? undefined : index,
        totalStages: state.stages?.length,
      }),
    );
  }
  if (state.progress !== undefined)
    out.push(
      msg('project_progress', state.updatedAt, { progress: state.progress.percent, ...state.progress }),
    );
  for (const id of state.agentOrder) {
    const a = state.agents[id];
    if (!a) continue;
    const data = {
      agentId: a.id,
      agentName: a.name,
      model: a.model,
      role: a.role,
      parentId: a.parentId,
      status: a.status,
      detail: a.detail,
      activity: a.activity,
      percent: a.percent,
      error: a.error?.message,
    };
    out.push(msg('agent_status_update', a.endedAt ?? a.startedAt, data));
  }
  for (const l of state.logs) {
    out.push(
      msg(
        'workflow_log',
        l.time,
        {
          level: l.level,
          message: l.message,
          agentId: l.agentId,
          agentName: l.agentId === undefined ? undefined : agentOf(state, l.agentId).name,
          fields: l.fields,
        },
        l.seq,
      ),
    );
  }
  const end = state.endedAt ?? state.updatedAt;
  if (state.status === 'completed') {
    const durationMs = state.startedAt === undefined ? undefined : end - state.startedAt;
    out.push(
      msg('project_completed', end, {
        status: 'completed',
        result: state.result,
        summary: state.summary,
        durationMs,
      }),
    );
  } else if (state.status === 'failed' || state.status === 'cancelled') {
    const error = state.error?.message ?? state.cancelReason ?? 'The project was cancelled.';
    out.push(
      msg('project_error', end, {
        status: state.status,
        error,
        code: state.error?.code ?? (state.status === 'cancelled' ? 'cancelled' : undefined),
        reason: state.failureReason ?? 'cancelled',
      }),
    );
  }
  return out;
}
