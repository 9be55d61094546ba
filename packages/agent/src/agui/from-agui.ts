import { createHash } from 'node:crypto';
import {
  AgentwireError,
  agUiText,
  parseAgUiEvent,
  type AgUiEvent,
  type AgUiInterrupt,
  type AgUiMessage,
  type EventData,
  type EventType,
} from '@agentwire/protocol';
import type { TaskHandle } from '../task.js';

/** How an AG-UI run ended, as `fromAgUi` saw it. */
export type AgUiOutcome =
  | { type: 'success'; result?: unknown }
  /** Paused for answers: run the agent again with resume entries for these. */
  | { type: 'interrupt'; interrupts: AgUiInterrupt[] }
  | { type: 'cancelled' }
  | { type: 'error'; message: string; code?: string }
  /** The events stopped before `RUN_FINISHED` or `RUN_ERROR` (a dropped connection). */
  | { type: 'ended' };

export interface FromAgUiOptions {
  /** The task the AG-UI run becomes: every event lands in its stream. */
  task: TaskHandle;
  /**
   * End the task with the run: `RUN_FINISHED` completes it, `RUN_ERROR` (or a stream that stops
   * short) fails it, a cancelled outcome cancels it. An interrupt never ends it. Default true.
   */
  endTask?: boolean;
  /** Ids of messages already in the task (the run's own input), which a `MESSAGES_SNAPSHOT` repeats. */
  knownMessageIds?: Iterable<string>;
}

// Catalog limits (packages/protocol/src/events): AG-UI carries longer values, which are clipped.
const MAX_ID = 128;
const MAX_NAME = 200;
const MAX_DELTA = 100_000;
const MAX_LOG = 20_000;
const MAX_ERROR = 4_000;
// How many events may be on their way to the gateway before the stream waits for the oldest.
const WINDOW = 64;

/**
 * Pipes an AG-UI event stream (an AG-UI agent's run: LangGraph, Mastra, a CopilotKit runtime,
 * anything speaking AG-UI 1.0) into an agentwire task, so the run is durable, resumable and
 * watchable on every transport. Events are plain values, parsed here (unknown types are skipped).
 * Resolves with how the run ended; a cancel of the task (its signal) stops the reading at once.
 * See docs/agui.md for the mapping and what does not survive it.
 */
export async function fromAgUi(
  events: AsyncIterable<unknown> | Iterable<unknown>,
  options: FromAgUiOptions,
): Promise<AgUiOutcome> {
  const ingest = new AgUiIngest(options.task, options.knownMessageIds);
  const endTask = options.endTask ?? true;
  const { signal } = options.task;
  let outcome: AgUiOutcome = { type: 'ended' };
  const iterator = toIterator(events);
  try {
    for (;;) {
      signal.throwIfAborted();
      const next = await untilAborted(iterator.next(), signal);
      if (next.done) break;
      const event = parseAgUiEvent(next.value);
      if (!event) continue;
      const ended = ingest.apply(event);
      await ingest.backpressure();
      if (ended) {
        outcome = ended;
        break;
      }
    }
  } catch (err) {
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
    if (signal.aborted) {
      // As a cancelled token stream does: its message ends, so no watcher shows it typing forever.
      ingest.closeOpen();
      await ingest.settle().catch(() => undefined);
      return { type: 'cancelled' };
    }
    ingest.closeOpen();
    await ingest.settle();
    if (endTask && !options.task.ended) await options.task.fail(err).catch(() => undefined);
    throw err;
  }
  void Promise.resolve(iterator.return?.()).catch(() => undefined);
  if (outcome.type !== 'interrupt') ingest.closeOpen();
  await ingest.settle();
  if (endTask && !options.task.ended && !signal.aborted) await end(options.task, outcome);
  return outcome;
}

async function end(task: TaskHandle, outcome: AgUiOutcome): Promise<void> {
  switch (outcome.type) {
    case 'success':
      await task.complete(outcome.result);
      return;
    case 'cancelled':
      await task.cancel({ reason: 'The AG-UI run was cancelled.' });
      return;
    case 'error':
      await task.fail({
        message: outcome.message,
        ...(outcome.code !== undefined && { code: outcome.code }),
      });
      return;
    case 'ended':
      await task.fail(new AgentwireError('unavailable', 'The AG-UI stream ended before the run finished.'));
      return;
    case 'interrupt':
      return;
  }
}

interface OpenToolCall {
  callId: string;
  name: string;
  args: string;
  agentId?: string;
  /** Published as `tool:executing` (at TOOL_CALL_END, or when its result came first). */
  executing: boolean;
  startedAt: number;
}

/** The mapping's state over one stream: what is open, what was published, in flight. */
class AgUiIngest {
  private readonly inFlight: Promise<unknown>[] = [];
  private readonly messages = new Map<string, string | undefined>();
  private readonly seen = new Set<string>();
  private readonly tools = new Map<string, OpenToolCall>();
  private readonly reasoning = new Map<string, string>();
  /** The message or tool call that `*_CHUNK` events continue, until another kind of event. */
  private chunkMessage: string | undefined;
  private chunkTool: string | undefined;

  constructor(
    private readonly task: TaskHandle,
    known: Iterable<string> = [],
  ) {
    for (const id of known) this.seen.add(id);
  }

  /** Maps one event; returns the outcome when it ends the run. */
  apply(e: AgUiEvent): AgUiOutcome | undefined {
    if (e.type !== 'TEXT_MESSAGE_CHUNK') this.endChunkMessage();
    if (e.type !== 'TOOL_CALL_CHUNK') this.endChunkTool();
    const agentId = e.subagentRunId === undefined ? undefined : id(e.subagentRunId);
    switch (e.type) {
      case 'RUN_STARTED':
        return undefined;
      case 'RUN_FINISHED': {
        const outcome = e.outcome;
        if (outcome?.type === 'interrupt') return { type: 'interrupt', interrupts: outcome.interrupts };
        if (outcome?.type === 'cancelled') return { type: 'cancelled' };
        return { type: 'success', ...(e.result !== undefined && { result: e.result }) };
      }
      case 'RUN_ERROR':
        return {
          type: 'error',
          message: clip(e.message, MAX_ERROR),
          ...(e.code !== undefined && { code: clip(e.code, MAX_ID) }),
        };
      case 'STEP_STARTED':
        if (agentId !== undefined) this.emit('agent:progress', { agentId, status: clip(e.stepName, 100) });
        else if (e.stepName !== '') this.emit('task:stage', { stage: clip(e.stepName, MAX_NAME) });
        return undefined;
      case 'STEP_FINISHED':
        return undefined;
      case 'TEXT_MESSAGE_START':
        this.startMessage(e.messageId, e.role, agentId);
        return undefined;
      case 'TEXT_MESSAGE_CONTENT':
        this.startMessage(e.messageId, undefined, agentId);
        this.delta(e.messageId, e.delta);
        return undefined;
      case 'TEXT_MESSAGE_END':
        this.endMessage(e.messageId);
        return undefined;
      case 'TEXT_MESSAGE_CHUNK': {
        const messageId = e.messageId ?? this.chunkMessage;
        if (messageId === undefined) return undefined;
        if (messageId !== this.chunkMessage) this.endChunkMessage();
        this.chunkMessage = messageId;
        this.startMessage(messageId, e.role, agentId);
        if (e.delta) this.delta(messageId, e.delta);
        return undefined;
      }
      case 'TOOL_CALL_START':
        this.startTool(e.toolCallId, e.toolCallName, agentId);
        return undefined;
      case 'TOOL_CALL_ARGS': {
        const call = this.tools.get(e.toolCallId);
        if (call && !call.executing) call.args += e.delta;
        return undefined;
      }
      case 'TOOL_CALL_END':
        this.executing(e.toolCallId);
        return undefined;
      case 'TOOL_CALL_CHUNK': {
        const callId = e.toolCallId ?? this.chunkTool;
        if (callId === undefined) return undefined;
        if (callId !== this.chunkTool) this.endChunkTool();
        this.chunkTool = callId;
        if (!this.tools.has(callId)) this.startTool(callId, e.toolCallName ?? 'tool', agentId);
        const call = this.tools.get(callId)!;
        if (e.delta && !call.executing) call.args += e.delta;
        return undefined;
      }
      case 'TOOL_CALL_RESULT':
        this.seen.add(id(e.messageId));
        this.result(e.toolCallId, e.content, agentId);
        return undefined;
      case 'MESSAGES_SNAPSHOT':
        for (const m of e.messages) this.snapshotMessage(m);
        return undefined;
      case 'SUBAGENT_STARTED':
        this.emit('agent:spawned', {
          agentId: id(e.subagentRunId),
          name: clip(e.name, MAX_NAME) || 'agent',
          ...(e.description !== undefined && { role: clip(e.description, MAX_NAME) }),
          ...(e.parentSubagentRunId !== undefined && { parentId: id(e.parentSubagentRunId) }),
        });
        return undefined;
      case 'SUBAGENT_FINISHED':
        if (e.outcome?.type === 'suspended') {
          this.emit('agent:progress', { agentId: id(e.subagentRunId), status: 'suspended' });
        } else {
          this.emit('agent:complete', {
            agentId: id(e.subagentRunId),
            ...(e.result !== undefined && { result: e.result }),
          });
        }
        return undefined;
      case 'SUBAGENT_ERROR':
        this.emit('agent:failed', {
          agentId: id(e.subagentRunId),
          error: {
            message: clip(e.message, MAX_ERROR),
            ...(e.code !== undefined && { code: clip(e.code, MAX_ID) }),
          },
        });
        return undefined;
      case 'REASONING_MESSAGE_START':
        this.reasoning.set(e.messageId, '');
        return undefined;
      case 'REASONING_MESSAGE_CONTENT':
      case 'REASONING_MESSAGE_CHUNK': {
        const messageId = e.messageId ?? [...this.reasoning.keys()].at(-1);
        if (messageId !== undefined && e.delta)
          this.reasoning.set(messageId, (this.reasoning.get(messageId) ?? '') + e.delta);
        return undefined;
      }
      case 'REASONING_MESSAGE_END':
      case 'REASONING_END':
        this.endReasoning(e.messageId, agentId);
        return undefined;
      case 'STATE_SNAPSHOT':
        this.emit('custom:event', { name: 'agui:state', payload: e.snapshot });
        return undefined;
      case 'STATE_DELTA':
        this.emit('custom:event', { name: 'agui:state_delta', payload: e.delta });
        return undefined;
      case 'ACTIVITY_SNAPSHOT':
      case 'ACTIVITY_DELTA': {
        const { type: _type, timestamp: _t, rawEvent: _r, metadata: _m, ...activity } = e;
        this.emit('custom:event', { name: 'agui:activity', payload: activity });
        return undefined;
      }
      case 'RAW':
        this.emit('custom:event', { name: 'agui:raw', payload: e.event });
        return undefined;
      case 'CUSTOM':
        this.emit('custom:event', { name: clip(e.name, MAX_NAME) || 'agui:custom', payload: e.value });
        return undefined;
      case 'REASONING_START':
      case 'REASONING_ENCRYPTED_VALUE':
        // Opaque by design: nothing a watcher could read.
        return undefined;
    }
  }

  /** Ends what the run left open (a run that stopped short), so no message stays open forever. */
  closeOpen(): void {
    this.endChunkMessage();
    this.endChunkTool();
    for (const messageId of [...this.messages.keys()]) this.endMessage(messageId);
  }

  /** Waits until everything published so far is stored (or failed). */
  async settle(): Promise<void> {
    const pending = this.inFlight.splice(0);
    const results = await Promise.allSettled(pending);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private startMessage(messageId: string, role: string | undefined, agentId: string | undefined): void {
    const ours = id(messageId);
    if (this.messages.has(ours) || this.seen.has(ours)) return;
    this.messages.set(ours, agentId);
    this.seen.add(ours);
    this.emit('message:start', {
      messageId: ours,
      role: role === 'user' ? 'user' : role === 'system' || role === 'developer' ? 'system' : 'assistant',
      ...(agentId !== undefined && { agentId }),
    });
  }

  private delta(messageId: string, text: string): void {
    const ours = id(messageId);
    if (!this.messages.has(ours)) return;
    for (let i = 0; i < text.length; i += MAX_DELTA) {
      this.emit('message:delta', { messageId: ours, delta: text.slice(i, i + MAX_DELTA) });
    }
  }

  private endMessage(messageId: string): void {
    const ours = id(messageId);
    if (!this.messages.delete(ours)) return;
    this.emit('message:end', { messageId: ours });
  }

  private endChunkMessage(): void {
    if (this.chunkMessage === undefined) return;
    this.endMessage(this.chunkMessage);
    this.chunkMessage = undefined;
  }

  private startTool(callId: string, name: string, agentId: string | undefined): void {
    const ours = id(callId);
    if (this.tools.has(ours) || this.seen.has(ours)) return;
    this.seen.add(ours);
    this.tools.set(ours, {
      callId: ours,
      name: clip(name, MAX_NAME) || 'tool',
      args: '',
      ...(agentId !== undefined && { agentId }),
      executing: false,
      startedAt: Date.now(),
    });
  }

  private endChunkTool(): void {
    if (this.chunkTool === undefined) return;
    this.executing(this.chunkTool);
    this.chunkTool = undefined;
  }

  /** The call's arguments are complete: it is executing (AG-UI streams them; we carry them whole). */
  private executing(callId: string): void {
    const call = this.tools.get(id(callId));
    if (!call || call.executing) return;
    call.executing = true;
    this.emit('tool:executing', {
      callId: call.callId,
      tool: call.name,
      ...(call.agentId !== undefined && { agentId: call.agentId }),
      ...(call.args !== '' && { args: parseArgs(call.args) }),
    });
  }

  private result(callId: string, content: unknown, agentId: string | undefined): void {
    const ours = id(callId);
    const call = this.tools.get(ours);
    if (call) this.executing(ours);
    this.tools.delete(ours);
    this.emit('tool:complete', {
      callId: ours,
      ...(call && { tool: call.name }),
      ...((call?.agentId ?? agentId) !== undefined && { agentId: call?.agentId ?? agentId }),
      durationMs: call ? Math.max(0, Date.now() - call.startedAt) : 0,
      result: content,
    });
  }

  /**
   * A message of a snapshot that this stream has not carried (agents that send only snapshots,
   * or send them at the end) becomes the events that would have carried it.
   */
  private snapshotMessage(m: AgUiMessage): void {
    const agentId = m.subagentRunId === undefined ? undefined : id(m.subagentRunId);
    if (m.role === 'assistant') {
      if (m.content && !this.seen.has(id(m.id))) {
        this.startMessage(m.id, 'assistant', agentId);
        this.delta(m.id, m.content);
        this.endMessage(m.id);
      }
      for (const call of m.toolCalls ?? []) {
        if (this.seen.has(id(call.id))) continue;
        this.startTool(call.id, call.function.name, agentId);
        this.tools.get(id(call.id))!.args = call.function.arguments;
        this.executing(call.id);
      }
      return;
    }
    if (m.role === 'tool') {
      if (this.seen.has(id(m.id))) return;
      this.seen.add(id(m.id));
      this.result(m.toolCallId, m.content, agentId);
      return;
    }
    if (m.role === 'user' || m.role === 'system' || m.role === 'developer') {
      if (this.seen.has(id(m.id))) return;
      const text = agUiText(m.content);
      this.startMessage(m.id, m.role, agentId);
      if (text !== '') this.delta(m.id, text);
      this.endMessage(m.id);
    }
  }

  private endReasoning(messageId: string, agentId: string | undefined): void {
    const text = this.reasoning.get(messageId);
    this.reasoning.delete(messageId);
    if (!text) return;
    this.emit('log:entry', {
      level: 'debug',
      message: clip(text, MAX_LOG),
      ...(agentId !== undefined && { agentId }),
      fields: { agui: 'reasoning', messageId },
    });
  }

  /** Waits while too much is on its way, so a gateway slower than the agent slows the reading. */
  async backpressure(): Promise<void> {
    while (this.inFlight.length > WINDOW) await this.inFlight.shift();
  }

  private emit<T extends EventType>(type: T, data: EventData<T>): void {
    const stored = this.task.emit(type, data);
    // Awaited in order by backpressure() or settle(); this only keeps Node from calling it unhandled.
    stored.catch(() => undefined);
    this.inFlight.push(stored);
  }
}

/** Arguments as JSON when they are, else the text as it came. */
function parseArgs(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** AG-UI ids are free-form; ours are 1 to 128 characters. Longer ones are hashed, stably. */
function id(value: string): string {
  if (value.length >= 1 && value.length <= MAX_ID) return value;
  return `agui-${createHash('sha256').update(value).digest('base64url')}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}

function toIterator(
  source: AsyncIterable<unknown> | Iterable<unknown>,
): AsyncIterator<unknown> | Iterator<unknown> {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  return source[Symbol.iterator]();
}

/** The iterator's next value, or the abort reason as soon as `signal` aborts. */
function untilAborted<T>(next: Promise<T> | T, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(next).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
