import { isBaseMessage, type BaseMessage } from '@langchain/core/messages';

/** The stream modes the adapter asks LangGraph for; each maps onto agentwire events. */
export const STREAM_MODES = ['tasks', 'messages', 'tools', 'custom', 'updates', 'values'] as const;

/** What LangGraph puts next to each streamed message (`streamMode: "messages"`). */
export interface MessageMeta {
  node?: string;
  /** `node:<task id>` segments joined by `|`: which node run produced the message. */
  checkpointNs?: string;
}

export interface InterruptInfo {
  id?: string;
  value?: unknown;
  /** JSON Schema of the expected answer, from `interrupt(value, { responseSchema })`. */
  responseSchema?: Record<string, unknown>;
}

export type ToolEvent =
  | { event: 'on_tool_start'; toolCallId?: string; name: string; input: unknown }
  | { event: 'on_tool_event'; toolCallId?: string; name: string; data: unknown }
  | { event: 'on_tool_end'; toolCallId?: string; name: string; output: unknown }
  | { event: 'on_tool_error'; toolCallId?: string; name: string; error: unknown };

/**
 * One chunk of `graph.stream(…, { streamMode: [...], subgraphs: true })`, parsed. `ns` is the
 * namespace: empty for the root graph, one `node:<task id>` segment per subgraph level.
 */
export type GraphChunk =
  | { mode: 'task-start'; ns: string[]; id: string; node: string }
  | {
      mode: 'task-end';
      ns: string[];
      id: string;
      node: string;
      error?: unknown;
      interrupts: InterruptInfo[];
    }
  | { mode: 'message'; ns: string[]; message: BaseMessage; meta: MessageMeta }
  | { mode: 'tool'; ns: string[]; event: ToolEvent }
  | { mode: 'custom'; ns: string[]; payload: unknown }
  | { mode: 'interrupts'; ns: string[]; interrupts: InterruptInfo[] }
  | { mode: 'values'; ns: string[]; values: unknown };

const INTERRUPT_KEY = '__interrupt__';

/** Parses a raw stream chunk; `undefined` for shapes this adapter does not map. */
export function parseChunk(raw: unknown): GraphChunk | undefined {
  if (!Array.isArray(raw) || raw.length !== 3) return undefined;
  const [rawNs, mode, payload] = raw as [unknown, unknown, unknown];
  const ns = Array.isArray(rawNs) ? rawNs.filter((s): s is string => typeof s === 'string') : [];
  switch (mode) {
    case 'tasks':
      return parseTask(ns, payload);
    case 'messages': {
      if (!Array.isArray(payload)) return undefined;
      const [message, meta] = payload as [unknown, unknown];
      if (!isBaseMessage(message)) return undefined;
      const m = isRecord(meta) ? meta : {};
      return {
        mode: 'message',
        ns,
        message,
        meta: {
          ...(typeof m.langgraph_node === 'string' && { node: m.langgraph_node }),
          ...(typeof m.langgraph_checkpoint_ns === 'string' && { checkpointNs: m.langgraph_checkpoint_ns }),
        },
      };
    }
    case 'tools':
      return parseTool(ns, payload);
    case 'custom':
      return { mode: 'custom', ns, payload };
    case 'updates':
      if (isRecord(payload) && Array.isArray(payload[INTERRUPT_KEY])) {
        return { mode: 'interrupts', ns, interrupts: parseInterrupts(payload[INTERRUPT_KEY]) };
      }
      return undefined;
    case 'values':
      // After an interrupt LangGraph streams `{ __interrupt__: [...] }` as the values: not a state.
      if (isRecord(payload) && INTERRUPT_KEY in payload) return undefined;
      return { mode: 'values', ns, values: payload };
    default:
      return undefined;
  }
}

function parseTask(ns: string[], payload: unknown): GraphChunk | undefined {
  if (!isRecord(payload) || typeof payload.id !== 'string' || typeof payload.name !== 'string') {
    return undefined;
  }
  const { id, name } = payload;
  // A start carries the node's input and triggers; an end its result or error (both carry `interrupts`).
  if (!('result' in payload) && !('error' in payload)) {
    return { mode: 'task-start', ns, id, node: name };
  }
  return {
    mode: 'task-end',
    ns,
    id,
    node: name,
    ...(payload.error !== undefined && payload.error !== null && { error: payload.error }),
    interrupts: parseInterrupts(payload.interrupts),
  };
}

function parseTool(ns: string[], payload: unknown): GraphChunk | undefined {
  if (!isRecord(payload) || typeof payload.event !== 'string') return undefined;
  const name = typeof payload.name === 'string' && payload.name !== '' ? payload.name : 'unknown';
  const base = {
    name,
    ...(typeof payload.toolCallId === 'string' &&
      payload.toolCallId !== '' && { toolCallId: payload.toolCallId }),
  };
  switch (payload.event) {
    case 'on_tool_start':
      return { mode: 'tool', ns, event: { event: 'on_tool_start', ...base, input: payload.input } };
    case 'on_tool_event':
      return { mode: 'tool', ns, event: { event: 'on_tool_event', ...base, data: payload.data } };
    case 'on_tool_end':
      return { mode: 'tool', ns, event: { event: 'on_tool_end', ...base, output: payload.output } };
    case 'on_tool_error':
      return { mode: 'tool', ns, event: { event: 'on_tool_error', ...base, error: payload.error } };
    default:
      return undefined;
  }
}

function parseInterrupts(raw: unknown): InterruptInfo[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((i) => ({
    ...(typeof i.id === 'string' && { id: i.id }),
    ...('value' in i && { value: i.value }),
    ...(isRecord(i.response_schema) && { responseSchema: i.response_schema }),
  }));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `researcher:1f0…|search:2a1…` → the node names `['researcher', 'search']`. */
export function nodePath(ns: readonly string[]): string[] {
  return ns.map((segment) => segment.split(':')[0] ?? segment);
}

/** The id of the node run a checkpoint namespace ends in (`…|writer:<task id>` → `<task id>`). */
export function taskIdOfNamespace(checkpointNs: string): string | undefined {
  const last = checkpointNs.split('|').at(-1) ?? '';
  const colon = last.indexOf(':');
  return colon < 0 ? undefined : last.slice(colon + 1);
}
