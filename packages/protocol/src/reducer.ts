import type { AnyEnvelope } from './envelope.js';
import type { ErrorInfo } from './events/common.js';
import { taskIdOf } from './streams.js';

export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export type AgentStatus = 'running' | 'completed' | 'failed' | 'cancelled';
export type ToolStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface AgentState {
  id: string;
  name: string;
  role?: string;
  model?: string;
  parentId?: string;
  status: AgentStatus;
  /** Free-form status text the agent last reported (`thinking`, `searching` …). */
  detail?: string;
  activity?: string;
  percent?: number;
  startedAt: number;
  endedAt?: number;
  error?: ErrorInfo;
}

export interface ToolCallState {
  callId: string;
  tool: string;
  agentId?: string;
  args?: unknown;
  attempt?: number;
  status: ToolStatus;
  startedAt: number;
  endedAt?: number;
  durationMs?: number;
  result?: unknown;
  error?: ErrorInfo;
}

export interface QuestionState {
  questionId: string;
  prompt: string;
  agentId?: string;
  options?: { value: string; label?: string }[];
  schema?: Record<string, unknown>;
  timeoutMs?: number;
  askedAt: number;
  status: 'open' | 'answered' | 'timedout';
  answer?: unknown;
  by?: string;
}

export interface MessageState {
  messageId: string;
  role: string;
  agentId?: string;
  text: string;
  done: boolean;
}

export interface LogState {
  seq: number;
  time: number;
  level: string;
  message: string;
  agentId?: string;
  fields?: Record<string, unknown>;
}

/** Everything a watcher needs to draw a task, folded from its events. */
export interface TaskState {
  stream: string;
  taskId: string;
  epoch: string;
  /** The seq of the last event folded in. */
  seq: number;
  title: string;
  kind?: string;
  projectId?: string;
  status: TaskStatus;
  stage?: string;
  stages?: string[];
  progress?: { percent?: number; message?: string; current?: number; total?: number };
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  updatedAt: number;
  estimatedMs?: number;
  result?: unknown;
  summary?: string;
  error?: ErrorInfo;
  failureReason?: string;
  cancelledBy?: string;
  cancelReason?: string;
  agents: Record<string, AgentState>;
  agentOrder: string[];
  tools: Record<string, ToolCallState>;
  toolOrder: string[];
  questions: Record<string, QuestionState>;
  messages: Record<string, MessageState>;
  messageOrder: string[];
  logs: LogState[];
  memoriesRecalled: number;
  eventCount: number;
}

/** How many log lines a snapshot keeps; the full history stays in the log. */
export const SNAPSHOT_LOG_LIMIT = 50;

export function emptyTaskState(stream: string, epoch: string, time: number): TaskState {
  return {
    stream,
    taskId: taskIdOf(stream) ?? stream,
    epoch,
    seq: 0,
    title: '',
    status: 'pending',
    createdAt: time,
    updatedAt: time,
    agents: {},
    agentOrder: [],
    tools: {},
    toolOrder: [],
    questions: {},
    messages: {},
    messageOrder: [],
    logs: [],
    memoriesRecalled: 0,
    eventCount: 0,
  };
}

const terminal = (s: TaskStatus) => s === 'completed' || s === 'failed' || s === 'cancelled';

/**
 * Sets fields, removing those whose value is undefined. A state never holds an undefined value, so a
 * state folded locally deep-equals the same state after the JSON round-trip a snapshot takes.
 */
function assign<T extends object>(target: T, fields: Partial<T>): T {
  const t = target as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    // Assigning `__proto__` would swap the target's prototype rather than set a field.
    if (key === '__proto__') continue;
    if (value === undefined) delete t[key];
    else t[key] = value;
  }
  return target;
}

/**
 * The entry for an id, only if the record itself has it: ids are the producers' (`constructor`,
 * `__proto__` and `toString` are fine ids), and a plain lookup would find Object.prototype's members.
 */
function own<T>(record: Record<string, T>, id: string): T | undefined {
  return Object.hasOwn(record, id) ? record[id] : undefined;
}

/** Sets an entry as an own property: plain assignment of `__proto__` would swap the prototype. */
function put<T>(record: Record<string, T>, id: string, value: T): void {
  Object.defineProperty(record, id, { value, writable: true, enumerable: true, configurable: true });
}

/** A copy of `record` with `id` set to `value`; computed keys in a literal are always own properties. */
function withEntry<T>(record: Record<string, T>, id: string, value: T): Record<string, T> {
  return { ...record, [id]: value };
}

/** A fresh object with the given fields, leaving out undefined ones (see `assign`). */
function defined<T extends object>(fields: T): T {
  return assign({} as T, fields);
}

function closeOpen<T extends { status: string; endedAt?: number }>(
  items: Record<string, T>,
  status: T['status'],
  time: number,
  only?: (item: T) => boolean,
): Record<string, T> {
  let out: Record<string, T> | undefined;
  for (const [key, item] of Object.entries(items)) {
    if (item.status === 'running' && (!only || only(item))) {
      out ??= { ...items };
      put(out, key, { ...item, status, endedAt: time });
    }
  }
  return out ?? items;
}

/**
 * Folds one event into a task's state. Pure: the same events in the same order give the same state
 * on the server (snapshots for late joiners) and in every client. Unchanged branches are shared, so
 * UI frameworks can compare by reference. Events out of order (seq not greater than the state's)
 * are ignored, which makes replays after a reconnect harmless.
 */
export function reduceTask(state: TaskState | undefined, e: AnyEnvelope): TaskState {
  const s0 = state ?? emptyTaskState(e.stream, e.epoch, e.time);
  if (state && (e.epoch !== state.epoch ? false : e.seq <= state.seq)) return state;
  const s: TaskState = {
    ...s0,
    seq: e.seq,
    epoch: e.epoch,
    updatedAt: e.time,
    // A merged delta (`fromSeq`) stands for every event it replaced.
    eventCount: s0.eventCount + 1 + (e.fromSeq === undefined ? 0 : e.seq - e.fromSeq),
  };
  switch (e.type) {
    case 'task:start': {
      const d = e.data;
      assign(s, {
        title: d.title,
        kind: d.kind,
        projectId: d.projectId,
        stages: d.stages,
        estimatedMs: d.estimatedMs,
        startedAt: e.time,
      });
      if (!terminal(s.status)) s.status = 'running';
      return s;
    }
    case 'task:progress': {
      // Only the known fields, and only those present: a report of `message` alone keeps `percent`.
      const { percent, message, current, total } = e.data;
      s.progress = { ...s.progress, ...defined({ percent, message, current, total }) };
      if (s.status === 'pending') s.status = 'running';
      return s;
    }
    case 'task:stage':
      s.stage = e.data.stage;
      if (e.data.message !== undefined) s.progress = { ...s.progress, message: e.data.message };
      return s;
    case 'task:complete':
      s.status = 'completed';
      assign(s, { result: e.data.result, summary: e.data.summary, endedAt: e.time });
      s.progress = { ...s.progress, percent: 100 };
      s.agents = closeOpen(s.agents, 'completed', e.time);
      s.tools = closeOpen(s.tools, 'cancelled', e.time);
      return s;
    case 'task:failed':
      s.status = 'failed';
      s.error = e.data.error;
      s.failureReason = e.data.reason ?? 'error';
      s.endedAt = e.time;
      s.agents = closeOpen(s.agents, 'failed', e.time);
      s.tools = closeOpen(s.tools, 'cancelled', e.time);
      return s;
    case 'task:cancelled': {
      const { agentId } = e.data;
      if (agentId) {
        s.agents = closeOpen(s.agents, 'cancelled', e.time, (a) => a.id === agentId);
        s.tools = closeOpen(s.tools, 'cancelled', e.time, (t) => t.agentId === agentId);
        return s;
      }
      s.status = 'cancelled';
      assign(s, { cancelledBy: e.data.by, cancelReason: e.data.reason, endedAt: e.time });
      s.agents = closeOpen(s.agents, 'cancelled', e.time);
      s.tools = closeOpen(s.tools, 'cancelled', e.time);
      return s;
    }
    case 'agent:spawned': {
      const d = e.data;
      if (!own(s.agents, d.agentId)) s.agentOrder = [...s.agentOrder, d.agentId];
      s.agents = withEntry(
        s.agents,
        d.agentId,
        defined<AgentState>({
          id: d.agentId,
          name: d.name,
          role: d.role,
          model: d.model,
          parentId: d.parentId,
          status: 'running',
          startedAt: e.time,
        }),
      );
      if (s.status === 'pending') s.status = 'running';
      return s;
    }
    case 'agent:progress':
      return patchAgent(s, e.data.agentId, e.time, {
        ...(e.data.status !== undefined && { detail: e.data.status }),
        ...(e.data.activity !== undefined && { activity: e.data.activity }),
        ...(e.data.percent !== undefined && { percent: e.data.percent }),
      });
    case 'agent:complete':
      return patchAgent(s, e.data.agentId, e.time, { status: 'completed', endedAt: e.time, percent: 100 });
    case 'agent:failed':
      return patchAgent(s, e.data.agentId, e.time, {
        status: 'failed',
        endedAt: e.time,
        error: e.data.error,
      });
    case 'agent:handoff':
      return patchAgent(s, e.data.from, e.time, { activity: `handed off to ${e.data.to}` });
    case 'tool:executing': {
      const d = e.data;
      if (!own(s.tools, d.callId)) s.toolOrder = [...s.toolOrder, d.callId];
      s.tools = withEntry(
        s.tools,
        d.callId,
        defined<ToolCallState>({
          callId: d.callId,
          tool: d.tool,
          agentId: d.agentId,
          args: d.args,
          attempt: d.attempt,
          status: 'running',
          startedAt: e.time,
        }),
      );
      const agent = d.agentId === undefined ? undefined : own(s.agents, d.agentId);
      if (agent) s.agents = withEntry(s.agents, agent.id, { ...agent, activity: `calling ${d.tool}` });
      return s;
    }
    case 'tool:complete':
    case 'tool:failed': {
      const d = e.data;
      const prior = own(s.tools, d.callId);
      const base: ToolCallState =
        prior ??
        defined<ToolCallState>({
          callId: d.callId,
          tool: d.tool ?? 'unknown',
          agentId: d.agentId,
          status: 'running',
          startedAt: e.time - (d.durationMs ?? 0),
        });
      if (!prior) s.toolOrder = [...s.toolOrder, d.callId];
      const next: ToolCallState = {
        ...base,
        endedAt: e.time,
        durationMs: d.durationMs ?? e.time - base.startedAt,
      };
      if (e.type === 'tool:complete') {
        assign(next, { status: 'completed', result: e.data.result });
      } else {
        next.status = 'failed';
        next.error = e.data.error;
      }
      s.tools = withEntry(s.tools, d.callId, next);
      return s;
    }
    case 'message:start': {
      const d = e.data;
      if (!own(s.messages, d.messageId)) s.messageOrder = [...s.messageOrder, d.messageId];
      s.messages = withEntry(
        s.messages,
        d.messageId,
        defined<MessageState>({
          messageId: d.messageId,
          role: d.role,
          agentId: d.agentId,
          text: '',
          done: false,
        }),
      );
      return s;
    }
    case 'message:delta': {
      const m = own(s.messages, e.data.messageId);
      if (!m) return s;
      s.messages = withEntry(s.messages, m.messageId, { ...m, text: m.text + e.data.delta });
      return s;
    }
    case 'message:end': {
      const m = own(s.messages, e.data.messageId);
      if (!m) return s;
      s.messages = withEntry(s.messages, m.messageId, { ...m, done: true });
      return s;
    }
    case 'chat:message': {
      const d = e.data;
      if (!own(s.messages, d.messageId)) s.messageOrder = [...s.messageOrder, d.messageId];
      s.messages = withEntry(s.messages, d.messageId, {
        messageId: d.messageId,
        role: 'user',
        text: d.text,
        done: true,
      });
      return s;
    }
    case 'memory:recalled':
      s.memoriesRecalled = s.memoriesRecalled + e.data.memories.length;
      return s;
    case 'log:entry': {
      const d = e.data;
      const entry: LogState = { seq: e.seq, time: e.time, level: d.level, message: d.message };
      if (d.agentId !== undefined) entry.agentId = d.agentId;
      if (d.fields !== undefined) entry.fields = d.fields;
      const logs =
        s.logs.length >= SNAPSHOT_LOG_LIMIT ? s.logs.slice(1 - SNAPSHOT_LOG_LIMIT) : s.logs.slice();
      logs.push(entry);
      s.logs = logs;
      return s;
    }
    case 'question:asked': {
      const d = e.data;
      s.questions = withEntry(
        s.questions,
        d.questionId,
        defined<QuestionState>({
          questionId: d.questionId,
          prompt: d.prompt,
          agentId: d.agentId,
          options: d.options,
          schema: d.schema,
          timeoutMs: d.timeoutMs,
          askedAt: e.time,
          status: 'open',
        }),
      );
      return s;
    }
    case 'question:answered': {
      const q = own(s.questions, e.data.questionId);
      if (!q) return s;
      s.questions = withEntry(
        s.questions,
        q.questionId,
        assign<QuestionState>(
          { ...q },
          { status: e.data.timedOut ? 'timedout' : 'answered', answer: e.data.answer, by: e.data.by },
        ),
      );
      return s;
    }
    case 'custom:event':
    case 'system:health':
    case 'system:performance':
    case 'system:alert':
      return s;
    default:
      // A type this build does not know (a newer producer or gateway): count it and keep the state,
      // rather than fall off the switch and hand the caller undefined.
      return s;
  }
}

function patchAgent(s: TaskState, agentId: string, time: number, patch: Partial<AgentState>): TaskState {
  const known = own(s.agents, agentId);
  const prior = known ?? { id: agentId, name: agentId, status: 'running' as const, startedAt: time };
  if (!known) s.agentOrder = [...s.agentOrder, agentId];
  s.agents = withEntry(s.agents, agentId, { ...prior, ...patch });
  return s;
}

/** Folds a whole history; the same function the server uses for snapshots. */
export function reduceTaskEvents(events: Iterable<AnyEnvelope>, initial?: TaskState): TaskState | undefined {
  let state = initial;
  for (const e of events) state = reduceTask(state, e);
  return state;
}

/** Open questions, oldest first. */
export function openQuestions(state: TaskState): QuestionState[] {
  return Object.values(state.questions)
    .filter((q) => q.status === 'open')
    .sort((a, b) => a.askedAt - b.askedAt);
}

export function isTerminal(state: Pick<TaskState, 'status'>): boolean {
  return terminal(state.status);
}
