import type { EventData, EventType } from '@agentwire/protocol';
import { AgentHandle, idOf, type LogFields, type LogLevel } from './agent.js';
import { toErrorInfo } from './error-info.js';
import { newId } from './ids.js';
import { quiet, type Outbox } from './outbox.js';

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

/** A running task: the handle to its stream (`task:<id>`) and the factory for its agents. */
export class TaskHandle {
  readonly stream: string;
  private readonly cancelled = new AbortController();

  /** @internal */
  constructor(
    private readonly outbox: Outbox,
    readonly id: string,
    stream: string,
    readonly projectId: string | undefined,
  ) {
    this.stream = stream;
  }

  /** Aborts when the task is cancelled; hand it to anything that should stop with the task. */
  get signal(): AbortSignal {
    return this.cancelled.signal;
  }

  spawnAgent(options: SpawnAgentOptions): Promise<AgentHandle> {
    const agentId = options.agentId ?? newId();
    const agent = new AgentHandle(
      { outbox: this.outbox, stream: this.stream, taskId: this.id, signal: this.signal },
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
    return this.emit('task:complete', { result, summary: options.summary });
  }

  fail(error: unknown, options: { reason?: FailureReason } = {}): Promise<number> {
    return this.emit('task:failed', { error: toErrorInfo(error), reason: options.reason });
  }

  /**
   * Cancels the task from the producer's side: publishes `task:cancelled` and aborts `signal` at
   * once, so in-flight work stops without waiting for the gateway.
   */
  cancel(options: { reason?: string; by?: string } = {}): Promise<number> {
    const stored = this.emit('task:cancelled', { reason: options.reason, by: options.by });
    this.cancelled.abort(new DOMException(options.reason ?? 'The task was cancelled.', 'AbortError'));
    return stored;
  }

  /** Publishes any catalog event into this task's stream, typed by the catalog. */
  emit<T extends EventType>(type: T, data: EventData<T>): Promise<number> {
    return this.outbox.publish(this.stream, type, data);
  }
}
