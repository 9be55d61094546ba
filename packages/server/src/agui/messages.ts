import {
  AgUiMessage,
  assertSchema,
  type AgUiTextRole,
  type AnyEnvelope,
  type ErrorInfo,
  type TaskState,
  type ToolCallState,
} from '@agentwire/protocol';

type AssistantMessage = Extract<AgUiMessage, { role: 'assistant' }>;
type ToolMessage = Extract<AgUiMessage, { role: 'tool' }>;

/** Our message roles in AG-UI's text roles: AG-UI has no text message from a tool. */
export function agUiRole(role: string): AgUiTextRole {
  return role === 'user' || role === 'system' ? role : 'assistant';
}

/** The id of the tool message that carries a tool call's result. */
export const resultMessageId = (callId: string): string => `${callId}:result`;

/** A tool's result as AG-UI tool message content (text): strings as they are, the rest as JSON. */
export function toolResultContent(result: unknown): string {
  if (result === undefined) return '';
  return typeof result === 'string' ? result : JSON.stringify(result);
}

/** A failed tool's result content: its error as JSON, the way a model reads a tool error. */
export function toolErrorContent(error: ErrorInfo): string {
  return JSON.stringify({ error: { message: error.message, ...(error.code && { code: error.code }) } });
}

export function toolCallArguments(args: unknown): string {
  return JSON.stringify(args ?? {});
}

/**
 * A task's conversation as AG-UI messages, folded from its events exactly as `@ag-ui/client`
 * applies the events the translator emits for them, so a late joiner's `MESSAGES_SNAPSHOT` is the
 * list a client that watched from the start holds (metadata aside). The messages of the
 * `RunAgentInput` that started the task (kept in its `task:start` input) come first.
 */
export class MessageBook {
  private readonly list: AgUiMessage[] = [];
  private readonly byId = new Map<string, AgUiMessage>();
  private readonly open = new Set<string>();
  private readonly toolCalls = new Set<string>();

  get messages(): AgUiMessage[] {
    return this.list;
  }

  /** Folds `e`; `state` is the reducer's state with `e` folded in (for agents' names). */
  apply(e: AnyEnvelope, state: TaskState): void {
    switch (e.type) {
      case 'task:start':
        for (const m of startMessages(e.data.input)) this.push(m);
        return;
      case 'message:start': {
        const { messageId, role, agentId } = e.data;
        if (this.byId.has(messageId)) return;
        this.open.add(messageId);
        const name = agentId === undefined ? undefined : state.agents[agentId]?.name;
        this.push({
          id: messageId,
          role: agUiRole(role),
          content: '',
          ...(name !== undefined && { name }),
          ...(agentId !== undefined && { subagentRunId: agentId }),
        } as AgUiMessage);
        return;
      }
      case 'message:delta': {
        const m = this.byId.get(e.data.messageId);
        if (m && this.open.has(m.id) && typeof m.content === 'string') m.content += e.data.delta;
        return;
      }
      case 'message:end':
        this.open.delete(e.data.messageId);
        return;
      case 'chat:message': {
        const { messageId, text, from } = e.data;
        if (this.byId.has(messageId)) return;
        this.push({ id: messageId, role: 'user', content: text, ...(from !== undefined && { name: from }) });
        return;
      }
      case 'tool:executing': {
        const { callId, tool, args, agentId } = e.data;
        if (this.toolCalls.has(callId)) return;
        this.toolCalls.add(callId);
        this.push(toolCallMessage(callId, tool, args, agentId));
        return;
      }
      case 'tool:complete':
        this.result(e.data.callId, toolResultContent(e.data.result), e.data.agentId);
        return;
      case 'tool:failed':
        if (e.data.retryable !== true)
          this.result(e.data.callId, toolErrorContent(e.data.error), e.data.agentId);
        return;
      default:
        return;
    }
  }

  /** Where `@ag-ui/client` puts a tool result: after its call and the results already there. */
  private result(callId: string, content: string, agentId: string | undefined): void {
    const id = resultMessageId(callId);
    if (this.byId.has(id)) return;
    const message: ToolMessage = {
      id,
      role: 'tool',
      toolCallId: callId,
      content,
      ...(agentId !== undefined && { subagentRunId: agentId }),
    };
    this.byId.set(id, message);
    const at = this.list.findIndex(
      (m) => m.role === 'assistant' && (m.toolCalls ?? []).some((c) => c.id === callId),
    );
    if (at === -1) {
      this.list.push(message);
      return;
    }
    let i = at + 1;
    while (i < this.list.length && this.list[i]!.role === 'tool') i++;
    this.list.splice(i, 0, message);
  }

  private push(message: AgUiMessage): void {
    this.list.push(message);
    this.byId.set(message.id, message);
  }
}

function toolCallMessage(
  callId: string,
  tool: string,
  args: unknown,
  agentId: string | undefined,
): AssistantMessage {
  return {
    id: callId,
    role: 'assistant',
    toolCalls: [
      { id: callId, type: 'function', function: { name: tool, arguments: toolCallArguments(args) } },
    ],
    ...(agentId !== undefined && { subagentRunId: agentId }),
  };
}

/** The AG-UI messages a task was started with (`input.messages`); anything else is not ours to show. */
function startMessages(input: unknown): AgUiMessage[] {
  const messages = (input as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(messages)) return [];
  return messages.filter((m): m is AgUiMessage => {
    try {
      assertSchema(AgUiMessage, m, 'invalid_message', 'message');
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The conversation from the reducer's state alone, for a task whose early history retention has
 * trimmed: text messages in order, then each tool call with its result. The reducer does not keep
 * how the two interleaved, nor the start's input.
 */
export function messagesFromState(state: TaskState): AgUiMessage[] {
  const out: AgUiMessage[] = [];
  for (const id of state.messageOrder) {
    const m = state.messages[id];
    if (!m) continue;
    const name = m.agentId === undefined ? undefined : state.agents[m.agentId]?.name;
    out.push({
      id: m.messageId,
      role: agUiRole(m.role),
      content: m.text,
      ...(name !== undefined && m.role !== 'user' && { name }),
      ...(m.agentId !== undefined && { subagentRunId: m.agentId }),
    } as AgUiMessage);
  }
  for (const id of state.toolOrder) {
    const t = state.tools[id];
    if (!t) continue;
    out.push(toolCallMessage(t.callId, t.tool, t.args, t.agentId));
    const content = finalResult(t);
    if (content !== undefined) {
      out.push({
        id: resultMessageId(t.callId),
        role: 'tool',
        toolCallId: t.callId,
        content,
        ...(t.agentId !== undefined && { subagentRunId: t.agentId }),
      });
    }
  }
  return out;
}

function finalResult(t: ToolCallState): string | undefined {
  if (t.status === 'completed') return toolResultContent(t.result);
  if (t.status === 'failed' && t.error) return toolErrorContent(t.error);
  return undefined;
}
