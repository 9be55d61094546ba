import { timeOrderedId, type EventData, type EventType } from '@agentwire/protocol';
import type { LanguageModelUsage } from 'ai';
import { abortReason, clip, errorInfo, errorText } from './errors.js';
import { publishable } from './payload.js';
import { toUsage, usageLine } from './usage.js';
import {
  isAgentHandle,
  openTarget,
  type Opened,
  type RunDescription,
  type Target,
  type WireOptions,
} from './target.js';

/** How a run ended, as the SDK reports it. */
export interface Outcome {
  text: string;
  finishReason: string;
  usage: LanguageModelUsage;
  steps: number;
}

export interface ToolCallInfo {
  toolCallId: string;
  toolName: string;
  input: unknown;
}

export type ToolOutcome = { type: 'tool-result'; output: unknown } | { type: 'tool-error'; error: unknown };

export interface Decision {
  approved: boolean;
  reason: string;
}

const SUMMARY_MAX = 20_000;
const LOG_MAX = 20_000;
const PROMPT_ARGS_MAX = 2_000;

/**
 * One SDK call (or one agent call) as it appears to watchers: the task and agent it publishes as,
 * the cancel that reaches it, the questions it asks. Events are queued in call order until the task
 * and agent exist, then go straight to the outbox, so callbacks never wait on the gateway.
 *
 * After a cancel nothing more is published: a watcher's cancel is recorded by the gateway once the
 * events published while stopping (an open message's end) are stored, and a caller's abort is
 * recorded here, last.
 */
export class Run {
  readonly agentId: string;
  private readonly controller = new AbortController();
  private readonly opened: Promise<Opened | undefined>;
  private handles: Opened | undefined;
  private queue: ((opened: Opened | undefined) => void)[] | undefined = [];
  private stopped = false;
  /** Removes the run's abort listeners: a caller's signal or an agent may outlive many runs. */
  private readonly listeners: (() => void)[] = [];
  private readonly messages = new Map<string, string>();
  private steps = 0;

  constructor(
    target: Target,
    private readonly options: WireOptions,
    description: RunDescription,
    callerSignal: AbortSignal | undefined,
  ) {
    const given = options.agent;
    this.agentId = isAgentHandle(given) ? given.id : (given?.agentId ?? timeOrderedId());
    if (callerSignal?.aborted) {
      // The SDK throws the reason at once; there is no run to show.
      this.stopped = true;
      this.controller.abort(callerSignal.reason);
      this.queue = undefined;
      this.opened = Promise.resolve(undefined);
      return;
    }
    if (callerSignal) this.listen(callerSignal, () => this.abortedByCaller(callerSignal.reason));
    this.opened = openTarget(target, options, description, this.agentId).then(
      (opened) => {
        const cancelled = opened.agent.signal;
        if (cancelled.aborted) {
          // Cancelled while starting: what was queued would follow the cancel, so it is dropped.
          this.stop();
          this.flush(undefined);
          this.controller.abort(cancelled.reason);
          return opened;
        }
        this.handles = opened;
        this.flush(opened);
        if (!this.stopped) this.listen(cancelled, () => this.cancelledByWatcher(cancelled));
        return opened;
      },
      (err: unknown) => {
        // Without a task nothing can be watched, cancelled or approved: the call fails with the reason.
        this.stop();
        this.flush(undefined);
        this.controller.abort(err);
        return undefined;
      },
    );
  }

  /** The signal handed to the SDK as `abortSignal`. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  stepStarted(): void {
    this.steps += 1;
    void this.emit('agent:progress', {
      agentId: this.agentId,
      status: 'thinking',
      activity: `step ${this.steps}`,
    });
  }

  stepEnded(finishReason: string, usage: LanguageModelUsage): void {
    const u = toUsage(usage);
    void this.emit('log:entry', {
      level: 'debug',
      agentId: this.agentId,
      message: `step ${this.steps} finished (${finishReason}): ${usageLine(u)}`,
      fields: { step: this.steps, finishReason, usage: u },
    });
  }

  startMessage(key: string): void {
    const messageId = timeOrderedId();
    this.messages.set(key, messageId);
    void this.emit('message:start', { messageId, role: 'assistant', agentId: this.agentId });
  }

  /** Resolves once the delta is stored (or refused), so a token stream can bound what runs ahead. */
  delta(key: string, text: string): Promise<void> {
    const messageId = this.messages.get(key);
    if (messageId === undefined || text === '') return Promise.resolve();
    return this.emit('message:delta', { messageId, delta: text });
  }

  endMessage(key: string): void {
    const messageId = this.messages.get(key);
    if (messageId === undefined) return;
    this.messages.delete(key);
    void this.emit('message:end', { messageId });
  }

  /** A whole message at once, for calls that do not stream. */
  message(text: string): void {
    if (text === '') return;
    const key = timeOrderedId();
    this.startMessage(key);
    void this.delta(key, text);
    this.endMessage(key);
  }

  reasoning(text: string): void {
    if (text.trim() === '') return;
    void this.emit('log:entry', {
      level: 'info',
      agentId: this.agentId,
      message: clip(text, LOG_MAX),
      fields: { kind: 'reasoning', step: this.steps },
    });
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    void this.emit('log:entry', {
      level: 'warn',
      agentId: this.agentId,
      message: clip(message, LOG_MAX),
      ...(fields && { fields }),
    });
  }

  toolStarted(call: ToolCallInfo): void {
    void this.emit('tool:executing', {
      callId: call.toolCallId,
      tool: call.toolName,
      agentId: this.agentId,
      args: publishable(call.input),
    });
  }

  toolEnded(call: ToolCallInfo, outcome: ToolOutcome, durationMs: number): void {
    const common = {
      callId: call.toolCallId,
      tool: call.toolName,
      agentId: this.agentId,
      durationMs: Math.max(0, Math.round(durationMs)),
    };
    if (outcome.type === 'tool-result') {
      void this.emit('tool:complete', { ...common, result: publishable(outcome.output) });
    } else if (!this.signal.aborted) {
      // A call that failed because of a cancel is closed by the cancel event itself.
      void this.emit('tool:failed', { ...common, error: errorInfo(outcome.error) });
    }
  }

  /**
   * Asks the watchers whether a tool call may run. Resolves with their decision (a timeout denies);
   * rejects with the abort reason if the run is cancelled meanwhile.
   */
  async approve(call: ToolCallInfo, why: string | undefined): Promise<Decision> {
    const opened = await this.opened;
    if (!opened) throw this.signal.reason;
    const args = clip(JSON.stringify(call.input) ?? 'undefined', PROMPT_ARGS_MAX);
    const prompt = `Allow ${call.toolName} ${args}?${why ? ` ${why}` : ''}`;
    const timeout = this.options.approvalTimeout;
    const asked = await opened.task.ask<string, 'deny'>(prompt, {
      options: [
        { value: 'approve', label: 'Approve' },
        { value: 'deny', label: 'Deny' },
      ],
      agent: this.agentId,
      signal: this.signal,
      default: 'deny',
      ...(timeout !== undefined && { timeout }),
    });
    if (asked.timedOut) return { approved: false, reason: `No answer within ${timeout} ms.` };
    const by = asked.by === undefined ? '' : ` by ${asked.by}`;
    return asked.answer === 'approve'
      ? { approved: true, reason: `Approved${by}.` }
      : { approved: false, reason: `Denied${by}.` };
  }

  /** The call ended normally: the agent and task the run started complete. */
  async finish(outcome: Outcome): Promise<void> {
    if (this.stopped) return;
    this.closeMessages();
    const usage = toUsage(outcome.usage);
    const result = { finishReason: outcome.finishReason, steps: outcome.steps, usage };
    const summary = outcome.text === '' ? undefined : clip(outcome.text, SUMMARY_MAX);
    await this.end(async ({ task, agent, ownsTask, ownsAgent }) => {
      const done: Promise<unknown>[] = [
        task.custom('usage', { agentId: this.agentId, steps: outcome.steps, ...usage }),
      ];
      if (ownsAgent) done.push(agent.complete(result, summary === undefined ? {} : { summary }));
      if (ownsTask) done.push(task.complete(result, summary === undefined ? {} : { summary }));
      await Promise.allSettled(done);
    });
  }

  /** The call failed: the agent and task the run started fail with its error. */
  async fail(error: unknown): Promise<void> {
    if (this.stopped) return;
    this.closeMessages();
    const reason = isTimeout(error) ? 'timeout' : 'error';
    await this.end(async ({ task, agent, ownsTask, ownsAgent }) => {
      const done: Promise<unknown>[] = [];
      if (ownsAgent) done.push(agent.fail(error));
      else done.push(agent.log('error', errorText(error)));
      if (ownsTask) done.push(task.fail(error, { reason }));
      await Promise.allSettled(done);
    });
  }

  /** A watcher cancelled the task or this agent: stop at once, publishing only the end of open messages. */
  private cancelledByWatcher(signal: AbortSignal): void {
    if (this.stopped) return;
    this.closeMessages();
    this.stop();
    this.controller.abort(signal.reason);
  }

  /** The caller aborted the call: record it as a cancel of what the run started, then stop. */
  private abortedByCaller(reason: unknown): void {
    if (this.stopped) return;
    this.closeMessages();
    const text = abortReason(reason);
    this.whenOpen(({ task, ownsTask, ownsAgent }) => {
      if (ownsTask) void task.cancel({ reason: text }).catch(() => undefined);
      else if (ownsAgent) void this.send(task, 'task:cancelled', { agentId: this.agentId, reason: text });
    });
    this.stop();
    this.controller.abort(reason);
  }

  private listen(signal: AbortSignal, onAbort: () => void): void {
    signal.addEventListener('abort', onAbort, { once: true });
    this.listeners.push(() => signal.removeEventListener('abort', onAbort));
  }

  /** From here on nothing is published. */
  private stop(): void {
    this.stopped = true;
    for (const remove of this.listeners.splice(0)) remove();
  }

  private closeMessages(): void {
    for (const key of [...this.messages.keys()]) this.endMessage(key);
  }

  private async end(fn: (opened: Opened) => Promise<void>): Promise<void> {
    this.stop();
    const opened = await this.opened;
    if (opened) await fn(opened);
  }

  private emit<T extends EventType>(type: T, data: EventData<T>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.whenOpen(({ task }) => resolve(this.send(task, type, data)), resolve);
    });
  }

  private send<T extends EventType>(task: Opened['task'], type: T, data: EventData<T>): Promise<void> {
    // A refused or undeliverable event is reported through the producer's onError; the model call
    // goes on.
    return task.emit(type, data).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Runs `fn` now if the task and agent exist, else once they do, in call order. */
  private whenOpen(fn: (opened: Opened) => void, otherwise?: () => void): void {
    if (this.handles) fn(this.handles);
    else if (this.queue) this.queue.push((opened) => (opened ? fn(opened) : otherwise?.()));
    else otherwise?.();
  }

  private flush(opened: Opened | undefined): void {
    const queue = this.queue ?? [];
    this.queue = undefined;
    for (const fn of queue) fn(opened);
  }
}

/** Ends a run as its outcome says: a model that stopped with an error fails it. */
export async function settle(run: Run, outcome: Outcome, lastError?: unknown): Promise<void> {
  if (outcome.finishReason === 'error') {
    await run.fail(lastError ?? new Error('The model stopped with an error.'));
  } else {
    await run.finish(outcome);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}
