import type { EventData } from '@agentwire/protocol';
import { newId } from './ids.js';
import { MessageHandle } from './message.js';
import { quiet, type Outbox } from './outbox.js';
import { prepareEvent } from './prepare.js';
import { toErrorInfo } from './error-info.js';
import { ToolCall } from './tool-call.js';
import { inSpan } from './tracing.js';

export type LogLevel = EventData<'log:entry'>['level'];
export type LogFields = Record<string, unknown>;
export type AgentProgress = Omit<EventData<'agent:progress'>, 'agentId'>;
export type MessageRole = EventData<'message:start'>['role'];
export type Recall = Omit<EventData<'memory:recalled'>, 'agentId'>;

export interface ToolOptions<T = unknown> {
  /** 1 for the first try; pass 2, 3 … when retrying a failed call so watchers see the retry. */
  attempt?: number;
  callId?: string;
  /** Marks a failure as worth retrying in `tool:failed`. */
  retryable?: boolean | ((error: unknown) => boolean);
  /** What to publish as the result, when the value itself is too big or not JSON. */
  result?: (value: T) => unknown;
}

export interface MessageOptions {
  role?: MessageRole;
  messageId?: string;
}

// How many deltas streamMessage lets run ahead of the gateway before it waits: enough to batch,
// few enough that a slow gateway slows the stream instead of growing memory without bound.
const DELTA_WINDOW = 64;

/** What an agent handle needs from its task; kept narrow so agents never reach into task internals. */
export interface AgentContext {
  outbox: Outbox;
  stream: string;
  taskId: string;
  signal: AbortSignal;
}

/** One agent working on a task. Every method publishes into the task's stream, in call order. */
export class AgentHandle {
  readonly taskId: string;

  /** @internal */
  constructor(
    private readonly ctx: AgentContext,
    readonly id: string,
    readonly name: string,
  ) {
    this.taskId = ctx.taskId;
  }

  /** Aborts when the task is cancelled, or this agent alone; tool calls and token streams get it. */
  get signal(): AbortSignal {
    return this.ctx.signal;
  }

  progress(progress: AgentProgress): Promise<number> {
    return this.publish('agent:progress', { ...progress, agentId: this.id });
  }

  log(level: LogLevel, message: string, fields?: LogFields): Promise<number> {
    return this.publish('log:entry', { level, message, agentId: this.id, fields });
  }

  recall(recall: Recall): Promise<number> {
    return this.publish('memory:recalled', { ...recall, agentId: this.id });
  }

  handoff(to: AgentHandle | string, reason?: string, context?: unknown): Promise<number> {
    return this.publish('agent:handoff', { from: this.id, to: idOf(to), reason, context });
  }

  complete(result?: unknown, options: { summary?: string } = {}): Promise<number> {
    return this.publish('agent:complete', { agentId: this.id, result, summary: options.summary });
  }

  fail(error: unknown): Promise<number> {
    return this.publish('agent:failed', { agentId: this.id, error: toErrorInfo(error) });
  }

  /**
   * Runs `fn` as a tool call: `tool:executing` is published as it starts (without holding the tool
   * up), then `tool:complete` with its duration and result, or `tool:failed` and `fn`'s error is
   * rethrown. `fn` gets the agent's cancel signal; a call that fails because of a cancel publishes
   * nothing more, since the cancel event closes it as cancelled. Resolves once the outcome is stored.
   */
  async tool<T>(
    name: string,
    args: unknown,
    fn: (signal: AbortSignal) => Promise<T> | T,
    options: ToolOptions<T> = {},
  ): Promise<T> {
    // A cancelled agent starts nothing new: no tool:executing after the cancel.
    this.ctx.signal.throwIfAborted();
    const callId = options.callId ?? newId();
    // An OpenTelemetry span (GenAI conventions) around the call: its events carry it, and the
    // gateway's and watchers' spans continue its trace (docs/observability.md#tracing).
    return inSpan(
      `execute_tool ${name}`,
      {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': name,
        'gen_ai.tool.call.id': callId,
        'agentwire.task.id': this.taskId,
        'agentwire.agent.id': this.id,
      },
      () => this.runTool(name, args, fn, { ...options, callId }),
    );
  }

  private async runTool<T>(
    name: string,
    args: unknown,
    fn: (signal: AbortSignal) => Promise<T> | T,
    options: ToolOptions<T>,
  ): Promise<T> {
    const { handle: call, stored: opened, refused } = this.openTool(name, args, options);
    if (refused) await opened;
    let value: T;
    try {
      value = await fn(this.ctx.signal);
    } catch (err) {
      if (this.ctx.signal.aborted) {
        await Promise.allSettled([opened]);
        throw err;
      }
      const retryable = typeof options.retryable === 'function' ? options.retryable(err) : options.retryable;
      await Promise.allSettled([opened, call.fail(err, retryable === undefined ? {} : { retryable })]);
      throw err;
    }
    const published = options.result ? options.result(value) : value;
    const outcomes = await Promise.allSettled([opened, call.complete(published)]);
    for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
    return value;
  }

  /** Opens a tool call to be closed later with `complete()` or `fail()`. */
  startTool(name: string, args?: unknown, options: Omit<ToolOptions, 'result'> = {}): Promise<ToolCall> {
    const { handle, stored } = this.openTool(name, args, options);
    return quiet(stored.then(() => handle));
  }

  startMessage(options: MessageOptions = {}): Promise<MessageHandle> {
    const { handle, stored } = this.openMessage(options);
    return quiet(stored.then(() => handle));
  }

  /**
   * Streams a message from text chunks (an LLM's token stream) and resolves with the full text
   * once every chunk is stored. If the source throws, the message is still ended and the error
   * rethrown, so watchers never see a message left open. A cancel stops the stream at once, even
   * while the source is waiting for its next chunk: the message is ended and the abort reason thrown.
   */
  async streamMessage(
    chunks: AsyncIterable<string> | Iterable<string>,
    options: MessageOptions = {},
  ): Promise<string> {
    this.ctx.signal.throwIfAborted();
    const { handle: message, stored: started, refused } = this.openMessage(options);
    if (refused) await started;
    const inFlight: Promise<number>[] = [started];
    let text = '';
    const signal = this.ctx.signal;
    const source = toAsyncIterator(chunks);
    try {
      for (;;) {
        const next = await untilAborted(source.next(), signal);
        if (next.done) break;
        const chunk = next.value;
        if (chunk === '') continue;
        text += chunk;
        inFlight.push(message.delta(chunk));
        if (inFlight.length > DELTA_WINDOW) await inFlight.shift();
      }
    } catch (err) {
      // Let the source clean up (an LLM client closes its HTTP stream), without waiting on it.
      if (signal.aborted) void Promise.resolve(source.return?.()).catch(() => undefined);
      await Promise.allSettled([...inFlight, message.end()]);
      throw err;
    }
    inFlight.push(message.end());
    await Promise.all(inFlight);
    return text;
  }

  private publish(type: Parameters<Outbox['publish']>[1], data: unknown): Promise<number> {
    return this.ctx.outbox.publish(this.ctx.stream, type, data);
  }

  private openTool(name: string, args: unknown, options: ToolOptions<never>): Opened<ToolCall> {
    const callId = options.callId ?? newId();
    const call = new ToolCall(this.ctx.outbox, this.ctx.stream, callId, name, this.id, options.attempt);
    return this.open(call, 'tool:executing', {
      callId,
      tool: name,
      agentId: this.id,
      args,
      attempt: options.attempt,
    });
  }

  private openMessage(options: MessageOptions): Opened<MessageHandle> {
    const messageId = options.messageId ?? newId();
    const message = new MessageHandle(this.ctx.outbox, this.ctx.stream, messageId);
    return this.open(message, 'message:start', {
      messageId,
      role: options.role ?? 'assistant',
      agentId: this.id,
    });
  }

  // Like publish(), but says whether the payload was refused locally, so the caller can stop before
  // running a tool or draining a token stream whose opening event will never exist.
  private open<H>(handle: H, type: 'tool:executing' | 'message:start', data: unknown): Opened<H> {
    try {
      return {
        handle,
        stored: this.ctx.outbox.submit(this.ctx.stream, prepareEvent(type, data)),
        refused: false,
      };
    } catch (err) {
      return {
        handle,
        stored: this.ctx.outbox.refuse(this.ctx.stream, err, [{ type, data }]),
        refused: true,
      };
    }
  }
}

interface Opened<H> {
  handle: H;
  stored: Promise<number>;
  refused: boolean;
}

function toAsyncIterator<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  const it = source[Symbol.iterator]();
  return {
    next: async () => it.next(),
    return: async (value?: unknown) => it.return?.(value) ?? { done: true, value: undefined },
  };
}

/** `promise`, or the abort reason as soon as `signal` aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
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

export function idOf(agent: AgentHandle | string): string {
  return typeof agent === 'string' ? agent : agent.id;
}
