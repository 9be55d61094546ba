import { randomUUID } from 'node:crypto';
import { isToolMessage } from '@langchain/core/messages';
import type { ToolEvent } from './chunks.js';
import { toErrorInfo } from './error-info.js';
import { toJsonSafe } from './json-safe.js';
import type { TaskWriter } from './task-writer.js';

interface Call {
  callId: string;
  tool: string;
  agentId: string | undefined;
  startedAt: number;
}

// The catalog's limit on a call id; LangChain's ids are far shorter, but a provider's may not be.
const MAX_ID = 128;

/**
 * Tool calls from `streamMode: "tools"`: `on_tool_start` opens `tool:executing`, `on_tool_end`
 * closes it with `tool:complete` (or `tool:failed` when the tool node turned the error into a
 * ToolMessage with status `error`), `on_tool_error` with `tool:failed`. The call id is the
 * model's tool call id, so the call, the model message that asked for it and the ToolMessage
 * that answers it all name the same call.
 */
export class ToolCalls {
  private readonly calls = new Map<string, Call>();
  /** Calls without a tool call id (a tool invoked from node code), oldest first per tool. */
  private readonly anonymous = new Map<string, Call[]>();
  /** Which agent's model asked for each tool call. */
  private readonly askedBy = new Map<string, string | undefined>();

  constructor(private readonly writer: TaskWriter) {}

  /** A model asked for this call: attribute it to that agent when it runs. */
  requested(toolCallId: string, agentId: string | undefined): void {
    if (agentId !== undefined || !this.askedBy.has(toolCallId)) this.askedBy.set(toolCallId, agentId);
  }

  received(ns: readonly string[], event: ToolEvent, runningAgent: string | undefined): void {
    const scope = `${ns.join('|')}\u0000${event.name}`;
    if (event.event === 'on_tool_start') {
      const id = event.toolCallId;
      const call: Call = {
        callId: id !== undefined && id.length <= MAX_ID ? id : randomUUID(),
        tool: event.name,
        agentId: (id !== undefined ? this.askedBy.get(id) : undefined) ?? runningAgent,
        startedAt: performance.now(),
      };
      if (id !== undefined) this.calls.set(id, call);
      else this.anonymous.set(scope, [...(this.anonymous.get(scope) ?? []), call]);
      this.writer.emit('tool:executing', {
        callId: call.callId,
        tool: call.tool,
        agentId: call.agentId,
        args: argsOf(event.input),
      });
      return;
    }
    const call =
      event.toolCallId !== undefined ? this.calls.get(event.toolCallId) : this.anonymous.get(scope)?.[0];
    if (!call) return;
    if (event.event === 'on_tool_event') {
      this.writer.emit('custom:event', {
        name: 'langgraph:tool-event',
        payload: { callId: call.callId, tool: call.tool, data: toJsonSafe(event.data) },
      });
      return;
    }
    if (event.toolCallId !== undefined) this.calls.delete(event.toolCallId);
    else this.anonymous.get(scope)?.shift();
    const durationMs = Math.round(performance.now() - call.startedAt);
    const ids = { callId: call.callId, tool: call.tool, agentId: call.agentId };
    if (event.event === 'on_tool_error') {
      this.writer.emit('tool:failed', { ...ids, error: toErrorInfo(event.error), durationMs });
    } else if (isToolMessage(event.output) && event.output.status === 'error') {
      this.writer.emit('tool:failed', {
        ...ids,
        error: toErrorInfo(contentText(event.output.content)),
        durationMs,
      });
    } else {
      this.writer.emit('tool:complete', { ...ids, durationMs, result: resultOf(event.output) });
    }
  }
}

/** LangGraph hands tool input over as the model wrote it, often a JSON string: parse it back. */
function argsOf(input: unknown): unknown {
  if (typeof input === 'string') {
    try {
      const parsed: unknown = JSON.parse(input);
      if (typeof parsed === 'object' && parsed !== null) return parsed;
    } catch {
      // Not JSON: the tool takes a plain string.
    }
  }
  return toJsonSafe(input);
}

/** A ToolMessage's content (and artifact, when the tool returned one); anything else as JSON. */
function resultOf(output: unknown): unknown {
  if (isToolMessage(output)) {
    const content = toJsonSafe(output.content);
    return output.artifact === undefined ? content : { content, artifact: toJsonSafe(output.artifact) };
  }
  return toJsonSafe(output);
}

function contentText(content: unknown): string {
  return typeof content === 'string' ? content : JSON.stringify(toJsonSafe(content));
}
