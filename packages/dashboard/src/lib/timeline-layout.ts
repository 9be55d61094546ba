import type { AgentStatus, TaskState, ToolStatus } from '@agentwire/protocol';

export interface TimelineBar {
  callId: string;
  tool: string;
  status: ToolStatus;
  start: number;
  /** The end, or "now" for a call still running. */
  end: number;
  /** Row inside the lane: parallel calls of one agent stack instead of hiding each other. */
  row: number;
}

export interface TimelineLane {
  /** Agent id, or `''` for calls no (known) agent made. */
  id: string;
  label: string;
  sublabel: string | undefined;
  status: AgentStatus | undefined;
  /** The agent's lifetime, as a faint band behind its bars. */
  span: { start: number; end: number } | undefined;
  rows: number;
  bars: TimelineBar[];
}

export interface TimelineLayout {
  start: number;
  end: number;
  lanes: TimelineLane[];
  /** Tick positions (absolute ms) and the step between them. */
  ticks: number[];
  tickStepMs: number;
}

const STEPS = [
  100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
  1_800_000, 3_600_000,
];

/** A "nice" tick step giving at most `maxTicks` ticks over `span` ms. */
export function tickStep(span: number, maxTicks: number): number {
  for (const step of STEPS) if (span / step <= maxTicks) return step;
  return Math.ceil(span / maxTicks / 3_600_000) * 3_600_000;
}

/**
 * One lane per agent (in spawn order), tool calls as bars over the task's lifetime. Calls still
 * running grow up to `now`; calls without a known agent get a lane of their own at the end.
 */
export function layoutTimeline(state: TaskState, now: number, maxTicks = 8): TimelineLayout {
  const start = state.startedAt ?? state.createdAt;
  const end = Math.max(start + 1_000, state.endedAt ?? now);
  const byAgent = new Map<string, TimelineBar[]>();
  for (const callId of state.toolOrder) {
    const t = state.tools[callId];
    if (!t) continue;
    const key = t.agentId !== undefined && state.agents[t.agentId] ? t.agentId : '';
    const bar: TimelineBar = {
      callId,
      tool: t.tool,
      status: t.status,
      start: Math.max(start, t.startedAt),
      end: Math.min(end, Math.max(t.startedAt, t.endedAt ?? now)),
      row: 0,
    };
    let list = byAgent.get(key);
    if (!list) byAgent.set(key, (list = []));
    list.push(bar);
  }
  const lanes: TimelineLane[] = [];
  for (const id of state.agentOrder) {
    const a = state.agents[id];
    if (!a) continue;
    const bars = byAgent.get(id) ?? [];
    lanes.push({
      id,
      label: a.name,
      sublabel: a.model,
      status: a.status,
      span: { start: Math.max(start, a.startedAt), end: Math.min(end, a.endedAt ?? now) },
      rows: pack(bars),
      bars,
    });
  }
  const orphans = byAgent.get('');
  if (orphans?.length) {
    lanes.push({
      id: '',
      label: 'task',
      sublabel: undefined,
      status: undefined,
      span: undefined,
      rows: pack(orphans),
      bars: orphans,
    });
  }
  const tickStepMs = tickStep(end - start, maxTicks);
  const ticks: number[] = [];
  for (let t = start; t <= end; t += tickStepMs) ticks.push(t);
  return { start, end, lanes, ticks, tickStepMs };
}

/** Greedy interval packing: each bar takes the first row whose last bar ended before it starts. */
function pack(bars: TimelineBar[]): number {
  const rowEnds: number[] = [];
  const sorted = [...bars].sort((a, b) => a.start - b.start);
  for (const bar of sorted) {
    let row = rowEnds.findIndex((endAt) => endAt <= bar.start);
    if (row === -1) row = rowEnds.push(bar.end) - 1;
    else rowEnds[row] = bar.end;
    bar.row = row;
  }
  return Math.max(1, rowEnds.length);
}
