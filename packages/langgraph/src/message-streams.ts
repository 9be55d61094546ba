import { randomUUID } from 'node:crypto';
import { isBaseMessageChunk, type BaseMessage } from '@langchain/core/messages';
import type { EventData } from '@agentwire/protocol';
import { taskIdOfNamespace, type MessageMeta } from './chunks.js';
import type { TaskWriter } from './task-writer.js';

type Role = EventData<'message:start'>['role'];

// The catalog caps one delta at 100,000 characters; a longer whole message goes out in pieces.
const MAX_DELTA = 50_000;

const roles: Record<string, Role> = { ai: 'assistant', human: 'user', system: 'system', tool: 'tool' };

interface Open {
  messageId: string;
  /** The node run that streams it; its end ends the message. */
  run: string | undefined;
}

/**
 * Messages from `streamMode: "messages"` as agentwire token streams: the chunks of one model call
 * (one LangGraph message id) become `message:start`, a `message:delta` per chunk with text, and
 * `message:end` when the node run that streamed them finishes. Whole messages a node returns
 * (a tool's result, a model called without streaming) arrive once and are published whole.
 */
export class MessageStreams {
  private readonly open = new Map<string, Open>();
  /** LangGraph ids already published whole or ended, so a repeat is not a second message. */
  private readonly done = new Set<string>();

  constructor(
    private readonly writer: TaskWriter,
    /** Called for every tool call a model asks for, with the agent whose model asked. */
    private readonly onToolCall: (toolCallId: string, agentId: string | undefined) => void,
  ) {}

  received(message: BaseMessage, meta: MessageMeta, agentId: string | undefined): void {
    for (const id of toolCallIds(message)) this.onToolCall(id, agentId);
    const role = roles[message.getType()];
    if (role === undefined) return;
    const run = meta.checkpointNs === undefined ? undefined : taskIdOfNamespace(meta.checkpointNs);
    const key = message.id ?? `${run ?? ''}:${role}`;
    if (this.done.has(key)) return;
    const text = textOf(message);
    let open = this.open.get(key);
    if (!open) {
      if (text === '') return;
      open = { messageId: randomUUID(), run };
      this.writer.emit('message:start', { messageId: open.messageId, role, agentId });
      this.open.set(key, open);
    }
    for (let i = 0; i < text.length; i += MAX_DELTA) {
      this.writer.emit('message:delta', { messageId: open.messageId, delta: text.slice(i, i + MAX_DELTA) });
    }
    if (!isBaseMessageChunk(message)) this.end(key, open);
  }

  /** A node run finished: the messages it streamed are complete. */
  runEnded(run: string): void {
    for (const [key, open] of this.open) if (open.run === run) this.end(key, open);
  }

  /**
   * Ends every open message. `stopping` is for a cancel: the ends are still published (they reach
   * the gateway before it records the cancel), though nothing else is any more.
   */
  endAll(stopping = false): void {
    for (const [key, open] of this.open) {
      this.open.delete(key);
      this.done.add(key);
      if (stopping) this.writer.emitWhileStopping('message:end', { messageId: open.messageId });
      else this.writer.emit('message:end', { messageId: open.messageId });
    }
  }

  private end(key: string, open: Open): void {
    this.open.delete(key);
    this.done.add(key);
    this.writer.emit('message:end', { messageId: open.messageId });
  }
}

/** The text of a message or chunk: its string content, or the text blocks of its content list. */
function textOf(message: BaseMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const block of content as unknown[]) {
    if (typeof block === 'string') text += block;
    else if (typeof block === 'object' && block !== null) {
      const b = block as { type?: unknown; text?: unknown };
      if (b.type === 'text' && typeof b.text === 'string') text += b.text;
    }
  }
  return text;
}

function toolCallIds(message: BaseMessage): string[] {
  const fields = message as unknown as { tool_calls?: unknown; tool_call_chunks?: unknown };
  const ids: string[] = [];
  for (const list of [fields.tool_calls, fields.tool_call_chunks]) {
    if (!Array.isArray(list)) continue;
    for (const call of list as unknown[]) {
      const id = (call as { id?: unknown } | null)?.id;
      if (typeof id === 'string' && id !== '') ids.push(id);
    }
  }
  return ids;
}
