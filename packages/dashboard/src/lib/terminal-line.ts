import { taskIdOf, type AnyEnvelope } from '@agentwire/protocol';

/** The levels the terminal filters by; events that are not log lines get one from what they mean. */
export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];

/** One line of the live terminal: an event, flattened for filtering, search, display and export. */
export interface TerminalLine {
  seq: number;
  /** The first seq the line stands for: below `seq` for token deltas the gateway merged. */
  firstSeq: number;
  time: number;
  type: AnyEnvelope['type'];
  /** The event type's family (`tool` for `tool:executing`), what the type filter offers. */
  family: string;
  level: Level;
  agentId: string | undefined;
  /** In a project stream, the task the event belongs to. */
  taskId: string | undefined;
  text: string;
  /** Lower-cased `type agent text`, computed once so a search over 50,000 lines stays cheap. */
  haystack: string;
  event: AnyEnvelope;
}

const MAX_TEXT = 2_000;

function short(value: unknown, max = 160): string {
  if (value === undefined) return '';
  let s: string;
  try {
    s = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function describe(e: AnyEnvelope): { level: Level; agentId?: string | undefined; text: string } {
  switch (e.type) {
    case 'log:entry': {
      const d = e.data;
      const fields = d.fields ? ` ${short(d.fields, 400)}` : '';
      return { level: d.level, agentId: d.agentId, text: `${d.message}${fields}` };
    }
    case 'task:start':
      return {
        level: 'info',
        text: `task started: ${e.data.title}${e.data.projectId ? ` [${e.data.projectId}]` : ''}`,
      };
    case 'task:progress': {
      const d = e.data;
      const pct = d.percent !== undefined ? `${Math.round(d.percent)}%` : '';
      return { level: 'info', text: `progress ${pct}${d.message ? ` ${d.message}` : ''}`.trim() };
    }
    case 'task:stage':
      return { level: 'info', text: `stage ${e.data.stage}${e.data.message ? `: ${e.data.message}` : ''}` };
    case 'task:complete':
      return { level: 'info', text: `task completed${e.data.summary ? `: ${e.data.summary}` : ''}` };
    case 'task:failed':
      return { level: 'error', text: `task failed (${e.data.reason ?? 'error'}): ${e.data.error.message}` };
    case 'task:cancelled':
      return {
        level: 'warn',
        agentId: e.data.agentId,
        text: `cancelled${e.data.by ? ` by ${e.data.by}` : ''}${e.data.reason ? `: ${e.data.reason}` : ''}`,
      };
    case 'agent:spawned': {
      const d = e.data;
      return {
        level: 'info',
        agentId: d.agentId,
        text: `spawned ${d.name}${d.model ? ` (${d.model})` : ''}${d.role ? ` — ${d.role}` : ''}`,
      };
    }
    case 'agent:progress': {
      const d = e.data;
      const parts = [d.status, d.activity, d.percent !== undefined ? `${Math.round(d.percent)}%` : undefined];
      return { level: 'debug', agentId: d.agentId, text: parts.filter(Boolean).join(' · ') };
    }
    case 'agent:complete':
      return {
        level: 'info',
        agentId: e.data.agentId,
        text: `agent completed${e.data.summary ? `: ${e.data.summary}` : ''}`,
      };
    case 'agent:failed':
      return { level: 'error', agentId: e.data.agentId, text: `agent failed: ${e.data.error.message}` };
    case 'agent:handoff':
      return {
        level: 'info',
        agentId: e.data.from,
        text: `handoff → ${e.data.to}${e.data.reason ? `: ${e.data.reason}` : ''}`,
      };
    case 'tool:executing':
      return {
        level: 'info',
        agentId: e.data.agentId,
        text: `${e.data.tool}(${short(e.data.args)})${e.data.attempt && e.data.attempt > 1 ? ` attempt ${e.data.attempt}` : ''}`,
      };
    case 'tool:complete':
      return {
        level: 'info',
        agentId: e.data.agentId,
        text: `${e.data.tool ?? e.data.callId} done${e.data.durationMs !== undefined ? ` in ${Math.round(e.data.durationMs)} ms` : ''} → ${short(e.data.result)}`,
      };
    case 'tool:failed':
      return {
        level: e.data.retryable ? 'warn' : 'error',
        agentId: e.data.agentId,
        text: `${e.data.tool ?? e.data.callId} failed: ${e.data.error.message}${e.data.retryable ? ' (will retry)' : ''}`,
      };
    case 'message:start':
      return { level: 'debug', agentId: e.data.agentId, text: `${e.data.role} message started` };
    case 'message:delta':
      return { level: 'trace', text: JSON.stringify(e.data.delta) };
    case 'message:end':
      return { level: 'debug', text: 'message ended' };
    case 'chat:message':
      return { level: 'info', text: `${e.data.from ?? 'user'}: ${e.data.text}` };
    case 'memory:recalled':
      return {
        level: 'debug',
        agentId: e.data.agentId,
        text: `recalled ${e.data.memories.length} memories${e.data.query ? ` for "${e.data.query}"` : ''}`,
      };
    case 'question:asked':
      return { level: 'warn', agentId: e.data.agentId, text: `asks: ${e.data.prompt}` };
    case 'question:answered':
      return {
        level: 'info',
        text: e.data.timedOut
          ? `question timed out; default ${short(e.data.answer)}`
          : `answered ${short(e.data.answer)}${e.data.by ? ` by ${e.data.by}` : ''}`,
      };
    case 'custom:event':
      return { level: 'info', text: `${e.data.name} ${short(e.data.payload, 400)}` };
    case 'system:health':
      return { level: e.data.status === 'ok' ? 'info' : 'warn', text: `health ${e.data.status}` };
    case 'system:performance':
      return { level: 'debug', text: short(e.data.metrics, 400) };
    case 'system:alert':
      return {
        level: e.data.severity === 'critical' ? 'error' : e.data.severity === 'warning' ? 'warn' : 'info',
        text: short(e.data, 400),
      };
    default:
      // A type newer than this build: still a line, shown raw.
      return { level: 'info', text: short((e as { data?: unknown }).data, 400) };
  }
}

/**
 * One event as a line. A project stream's `project:event` is drawn as the task event it carries,
 * named by its task, at the project stream's seq (what the terminal orders and resumes by).
 */
export function toTerminalLine(e: AnyEnvelope): TerminalLine {
  const origin = e.type === 'project:event' ? (e.data as unknown as AnyEnvelope) : e;
  const taskId = origin === e ? undefined : taskIdOf(origin.stream);
  const { level, agentId, text } = describe(origin);
  const clipped = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
  const family = origin.type.split(':')[0] ?? origin.type;
  return {
    seq: e.seq,
    firstSeq: e.fromSeq ?? e.seq,
    time: origin.time,
    type: origin.type,
    family,
    level,
    agentId,
    taskId,
    text: clipped,
    haystack: `${origin.type} ${taskId ?? ''} ${agentId ?? ''} ${clipped}`.toLowerCase(),
    event: e,
  };
}
