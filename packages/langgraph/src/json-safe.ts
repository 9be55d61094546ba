import { isBaseMessage, type BaseMessage } from '@langchain/core/messages';

// Deep enough for any state a watcher reads; deeper values are cut rather than walked forever.
const MAX_DEPTH = 32;

/**
 * A plain JSON copy of a graph value, for event payloads: LangChain messages become the
 * `{ type, content, … }` objects LangChain itself prints, `toJSON()` is honoured, functions,
 * symbols and `undefined` are dropped, and cycles and over-deep values become a marker string.
 */
export function toJsonSafe(value: unknown): unknown {
  return copy(value, 0, new WeakSet());
}

function copy(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (isBaseMessage(value)) return copy(messageToJson(value), depth + 1, seen);
    if (value instanceof Date) return value.toISOString();
    if (value instanceof Error) return { name: value.name, message: value.message };
    if (Array.isArray(value)) return value.map((v) => copy(v, depth + 1, seen) ?? null);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return copy(toJSON.call(value), depth + 1, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const c = copy(v, depth + 1, seen);
      if (c !== undefined) out[k] = c;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function messageToJson(m: BaseMessage): Record<string, unknown> {
  const fields = m as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { type: m.getType(), content: m.content };
  for (const key of ['id', 'name', 'tool_calls', 'tool_call_id', 'status', 'artifact']) {
    const v = fields[key];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) out[key] = v;
  }
  return out;
}
