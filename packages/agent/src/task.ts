import { AgentwireError, type CancelDelivery, type EventData, type EventType } from '@agentwire/protocol';
import { AgentHandle, idOf, type LogFields, type LogLevel } from './agent.js';
import { toErrorInfo } from './error-info.js';
import { newId } from './ids.js';
import { Inbox, type ChatMessage, type MessageHandler } from './inbox.js';
import { quiet, type Outbox } from './outbox.js';
import { PendingQuestions, questionFields, type AskOptions, type AskResult } from './question.js';

export type TaskProgress = EventData<'task:progress'>;
export type FailureReason = NonNullable<EventData<'task:failed'>['reason']>;

export interface SpawnAgentOptions {
  name: string;
  role?: string;
  model?: string;
  /** The agent that spawned this one, for the agent tree watchers draw. */
  parent?: AgentHandle | string;
  agentId?: string;
}

/** What a task needs from its producer's command session. */
export interface TaskHooks {
  /** Whether watchers' commands can reach this producer at all (it has a command channel). */
  readonly reachable: boolean;
  /** The task ended (completed, failed, cancelled): it no longer takes commands. */
  ended(task: TaskHandle): void;
  /** A chat handler threw; reported rather than crashing the producer. */
  reportError(error: unknown): void;
}

const unreachable: TaskHooks = { reachable: false, ended: () => undefined, reportError: () => undefined };

// After a remote cancel, the producer waits this long for what the agent published while stopping
// (a token stream's `message:end`, say) to be stored before it acknowledges, so those events
// precede `task:cancelled` in the stream.
const CANCEL_FLUSH_MS = 2_000;
// `ask` trusts the gateway to time a question out; this much later it stops waiting on its own,
// in case the gateway could not tell it.
const ASK_GRACE_MS = 2_000;

/** A running task: the handle to its stream (`task:<id>`) and the factory for its agents. */
export class TaskHandle {
  readonly stream: string;
  private readonly cancelled = new AbortController();
  private readonly agentStops = new Map<string, AbortController>();
  private readonly questions = new PendingQuestions();
  private readonly inbox: Inbox;
  private isEnded = false;

  /** @internal */
  constructor(
    private readonly outbox: Outbox,
    readonly id: string,
    stream: string,
    readonly projectId: string | undefined,
    private readonly hooks: TaskHooks = unreachable,
  ) {
    this.stream = stream;
    this.inbox = new Inbox((err) => hooks.reportError(err));
  }

  /**
   * Aborts when the task is cancelled, by `cancel()` here or by a watcher's cancel command; hand it
   * to anything that should stop with the task. Its `reason` says who cancelled and why.
   */
  get signal(): AbortSignal {
    return this.cancelled.signal;
  }

  /** True once the task completed, failed or was cancelled. */
  get ended(): boolean {
    return this.isEnded;
  }

  /**
   * Asks the watchers a question and waits for the first valid answer (checked by the gateway
   * against `options` or `schema`). Resolves `{ timedOut: false, answer, by }`, or after `timeout`
   * `{ timedOut: true, answer: options.default }`; rejects with the abort reason if the task is
   * cancelled (or `options.signal` aborts) meanwhile.
   */
  async ask<T = unknown, D = undefined>(
    prompt: string,
    options: AskOptions<D> = {},
  ): Promise<AskResult<T, D>> {
    if (!this.hooks.reachable) {
      throw new AgentwireError(
        'no_producer',
        'ask() needs a command channel for answers to arrive: connect() to a gateway by url or in-process.',
      );
    }
    const signal = options.signal ? AbortSignal.any([this.signal, options.signal]) : this.signal;
    signal.throwIfAborted();
    const fields = questionFields(options as AskOptions<unknown>);
    const questionId = options.questionId ?? newId();
    const answered = this.questions.wait(questionId);
    let fallback: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await this.emit('question:asked', {
        questionId,
        prompt,
        agentId:
          options.agent === undefined
            ? undefined
            : typeof options.agent === 'string'
              ? options.agent
              : options.agent.id,
        ...fields,
      });
      const outcome = await new Promise<{ answer: unknown; by?: string; timedOut: boolean }>(
        (resolve, reject) => {
          answered.then(resolve, reject);
          onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          if (fields.timeoutMs !== undefined) {
            fallback = setTimeout(() => {
              if (!this.questions.deliver(questionId, undefined, undefined, true)) return;
              // The gateway never said; record the timeout ourselves so watchers stop offering answers.
              void this.emit('question:answered', { questionId, answer: null, timedOut: true }).catch(
                () => undefined,
              );
            }, fields.timeoutMs + ASK_GRACE_MS);
            fallback.unref();
          }
        },
      );
      if (outcome.timedOut) return { timedOut: true, questionId, answer: options.default as D };
      return {
        timedOut: false,
        questionId,
        answer: outcome.answer as T,
        ...(outcome.by !== undefined && { by: outcome.by }),
      };
    } finally {
      clearTimeout(fallback);
      if (onAbort) signal.removeEventListener('abort', onAbort);
      this.questions.forget(questionId);
    }
  }

  /**
   * Calls `handler` for each chat message watchers send into this task, in order. Messages that
   * arrived before the first handler are handed to it. Returns a function that stops listening.
   */
  onMessage(handler: MessageHandler): () => void {
    return this.inbox.on(handler);
  }

  /** The chat messages as an async iterator, in order; it ends when the task ends. */
  messages(): AsyncGenerator<ChatMessage, void, undefined> {
    return this.inbox.iterate();
  }

  spawnAgent(options: SpawnAgentOptions): Promise<AgentHandle> {
    const agentId = options.agentId ?? newId();
    // Each agent stops with its task, or alone when a watcher cancels just that agent.
    let stop = this.agentStops.get(agentId);
    if (!stop) this.agentStops.set(agentId, (stop = new AbortController()));
    const agent = new AgentHandle(
      {
        outbox: this.outbox,
        stream: this.stream,
        taskId: this.id,
        signal: AbortSignal.any([this.signal, stop.signal]),
      },
      agentId,
      options.name,
    );
    const stored = this.emit('agent:spawned', {
      agentId,
      name: options.name,
      role: options.role,
      model: options.model,
      parentId: options.parent === undefined ? undefined : idOf(options.parent),
    });
    return quiet(stored.then(() => agent));
  }

  progress(progress: TaskProgress): Promise<number> {
    return this.emit('task:progress', progress);
  }

  stage(stage: string, message?: string): Promise<number> {
    return this.emit('task:stage', { stage, message });
  }

  log(level: LogLevel, message: string, fields?: LogFields): Promise<number> {
    return this.emit('log:entry', { level, message, fields });
  }

  custom(name: string, payload?: unknown): Promise<number> {
    return this.emit('custom:event', { name, payload });
  }

  complete(result?: unknown, options: { summary?: string } = {}): Promise<number> {
    const stored = this.emit('task:complete', { result, summary: options.summary });
    this.end();
    return stored;
  }

  fail(error: unknown, options: { reason?: FailureReason } = {}): Promise<number> {
    const stored = this.emit('task:failed', { error: toErrorInfo(error), reason: options.reason });
    this.end();
    return stored;
  }

  /**
   * Cancels the task from the producer's side: publishes `task:cancelled` and aborts `signal` at
   * once, so in-flight work stops without waiting for the gateway.
   */
  cancel(options: { reason?: string; by?: string } = {}): Promise<number> {
    const stored = this.emit('task:cancelled', { reason: options.reason, by: options.by });
    this.cancelled.abort(new DOMException(options.reason ?? 'The task was cancelled.', 'AbortError'));
    this.end();
    return stored;
  }

  /**
   * @internal A watcher's cancel, delivered by the gateway: aborts the signal (of the task, or of
   * one agent) at once, then waits briefly for what the agent published while stopping, so the
   * gateway's `task:cancelled` follows it. The gateway records the cancel; nothing is published here.
   */
  async cancelledRemotely(command: CancelDelivery): Promise<void> {
    const who = command.by === undefined ? '' : ` by ${command.by}`;
    const why = command.reason === undefined ? '' : `: ${command.reason}`;
    if (command.agentId !== undefined) {
      this.agentStops
        .get(command.agentId)
        ?.abort(new DOMException(`The agent was cancelled${who}${why}`, 'AbortError'));
    } else {
      this.cancelled.abort(new DOMException(`The task was cancelled${who}${why}`, 'AbortError'));
    }
    await this.settle(CANCEL_FLUSH_MS);
    if (command.agentId === undefined) this.end();
  }

  /** @internal An answer (or the gateway's timeout) for a question; false when no `ask` waits for it. */
  answered(questionId: string, answer: unknown, by: string | undefined, timedOut: boolean): boolean {
    return this.questions.deliver(questionId, answer, by, timedOut);
  }

  /** @internal A watcher's chat message. */
  received(message: ChatMessage): void {
    this.inbox.push(message);
  }

  /**
   * Waits (at most `maxMs`) until this task's queue is empty: first a turn for the agent's reactions
   * to the abort (a token stream ending its message) to queue their events, then for those to be
   * stored, again while new ones keep arriving.
   */
  private async settle(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    do {
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        timer.unref();
        void this.outbox.settleStream(this.stream).then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await new Promise((resolve) => setImmediate(resolve));
    } while (!this.outbox.isIdle(this.stream) && Date.now() < deadline);
  }

  private end(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.inbox.close();
    this.hooks.ended(this);
  }

  /** Publishes any catalog event into this task's stream, typed by the catalog. */
  emit<T extends EventType>(type: T, data: EventData<T>): Promise<number> {
    return this.outbox.publish(this.stream, type, data);
  }
}
