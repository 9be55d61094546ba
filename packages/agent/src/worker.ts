import { AgentwireError, type StartDelivery } from '@agentwire/protocol';
import { context, trace, type Span } from '@opentelemetry/api';
import type { StartHandler } from './command-session.js';
import type { StartTaskOptions } from './start-task-options.js';
import type { TaskHandle } from './task.js';
import { failed, tracer } from './tracing.js';

/** The start a handler runs: the kind, title, input and project the watcher asked for, and who asked (`by`). */
export type TaskStart = Readonly<Omit<StartDelivery, 'type'>>;

/**
 * Runs one task of a kind. Its result completes the task; a throw fails it (unless the task was
 * cancelled, which already ended it). It may also end the task itself with `task.complete()`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- inputs come from watchers: the handler parses them
export type TaskHandler<I = any, R = unknown> = (
  task: TaskHandle,
  input: I,
  start: TaskStart,
) => Promise<R> | R;

export interface WorkerOptions {
  /** Most tasks run at once; beyond it the gateway routes starts to other workers (or `no_worker`). */
  capacity?: number;
}

/** @internal What a worker needs from its producer. */
export interface WorkerHost {
  open(options: StartTaskOptions): Promise<{ task: TaskHandle; seq: number }>;
  announce(worker: Worker): void;
}

/**
 * This producer as a worker: the task kinds it starts when a watcher (or `POST /v1/tasks`) asks
 * for one. The gateway spreads starts over every connected worker of a kind, least loaded first.
 */
export class Worker implements StartHandler {
  private readonly handlers = new Map<string, TaskHandler>();
  private running = 0;
  #capacity: number | undefined;

  /** @internal */
  constructor(
    private readonly host: WorkerHost,
    options: WorkerOptions = {},
  ) {
    this.#capacity = checkCapacity(options.capacity);
  }

  get kinds(): readonly string[] {
    return [...this.handlers.keys()];
  }

  get capacity(): number | undefined {
    return this.#capacity;
  }

  /** Tasks this worker is running now. */
  get active(): number {
    return this.running;
  }

  /** Handles tasks of `kind` with `handler`, replacing an earlier handler of the same kind. */
  handle<I = unknown, R = unknown>(kind: string, handler: TaskHandler<I, R>): this {
    if (typeof kind !== 'string' || kind.length < 1 || kind.length > 128) {
      throw new TypeError('A task kind is a string of 1 to 128 characters.');
    }
    this.handlers.set(kind, handler as TaskHandler);
    this.host.announce(this);
    return this;
  }

  /** Stops taking tasks of `kind`; tasks already running go on. */
  unhandle(kind: string): this {
    if (this.handlers.delete(kind)) this.host.announce(this);
    return this;
  }

  configure(options: WorkerOptions): this {
    this.#capacity = checkCapacity(options.capacity);
    this.host.announce(this);
    return this;
  }

  /** @internal Publishes the task's start, then runs its handler in the background. */
  async start(command: StartDelivery): Promise<{ seq: number }> {
    const handler = this.handlers.get(command.kind);
    if (!handler)
      throw new AgentwireError('no_worker', `This worker does not handle ${JSON.stringify(command.kind)}.`);
    if (this.#capacity !== undefined && this.running >= this.#capacity) {
      throw new AgentwireError('no_worker', `This worker is at its capacity of ${this.#capacity} tasks.`);
    }
    this.running++;
    // The task's span: active while its start is published and its handler runs, ended with it.
    const span = tracer.startSpan(`agentwire.task ${command.kind}`, {
      attributes: {
        'agentwire.task.id': command.taskId,
        'agentwire.task.kind': command.kind,
        ...(command.by !== undefined && { 'agentwire.command.by': command.by }),
      },
    });
    const active = trace.setSpan(context.active(), span);
    let opened: { task: TaskHandle; seq: number };
    try {
      opened = await context.with(active, () =>
        this.host.open({
          taskId: command.taskId,
          title: command.title ?? command.kind,
          kind: command.kind,
          ...(command.input !== undefined && { input: command.input }),
          ...(command.projectId !== undefined && { projectId: command.projectId }),
        }),
      );
    } catch (err) {
      this.running--;
      failed(span, err);
      span.end();
      throw err;
    }
    const { type: _type, ...start } = command;
    void context.with(active, () => this.run(handler, opened.task, start, span));
    return { seq: opened.seq };
  }

  private async run(handler: TaskHandler, task: TaskHandle, start: TaskStart, span: Span): Promise<void> {
    try {
      const result = await handler(task, start.input, start);
      if (!task.ended && !task.signal.aborted) await task.complete(result);
    } catch (err) {
      failed(span, err);
      // A cancelled task is recorded as cancelled by the gateway; failing it too would contradict that.
      if (!task.ended && !task.signal.aborted) await task.fail(err).catch(() => undefined);
    } finally {
      this.running--;
      span.end();
    }
  }
}

function checkCapacity(capacity: number | undefined): number | undefined {
  if (capacity === undefined) return undefined;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`A worker's capacity is a positive integer, got ${capacity}.`);
  }
  return capacity;
}
