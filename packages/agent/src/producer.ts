import { assertStreamName, taskStream, type AnyEventInput } from '@agentwire/protocol';
import type { ChannelStatus } from './channel/command-channel.js';
import type { CommandSession } from './command-session.js';
import { newId } from './ids.js';
import { quiet, type Outbox } from './outbox.js';
import { prepareEvent, type PreparedEvent } from './prepare.js';
import type { Ack } from './stream-queue.js';
import { TaskHandle } from './task.js';
import type { StartTaskOptions } from './start-task-options.js';
import { activeTraceContext } from './tracing.js';
import { Worker, type TaskHandler, type WorkerOptions } from './worker.js';

export type { StartTaskOptions };

/**
 * What `connect()` returns: starts tasks, owns the outbox every handle publishes through, and the
 * command channel watchers' commands (cancel, answers, chat, starts) arrive on.
 */
export class Producer {
  #worker: Worker | undefined;

  /** @internal */
  constructor(
    private readonly outbox: Outbox,
    private readonly session?: CommandSession,
  ) {}

  /** The command channel's state; `none` when this producer was connected without one. */
  get commandStatus(): ChannelStatus | 'none' {
    return this.session?.status ?? 'none';
  }

  /** Publishes `task:start` and resolves with the task's handle once the gateway has stored it. */
  startTask(options: StartTaskOptions): Promise<TaskHandle> {
    return quiet(this.open(options).then((opened) => opened.task));
  }

  /**
   * Registers this producer as a worker for `kind`: a start of that kind from a watcher or
   * `POST /v1/tasks` runs `handler(task, input, start)` here (`start`: the kind, title, project and
   * who asked). Shorthand for `worker().handle(…)`.
   */
  handle<I = unknown, R = unknown>(kind: string, handler: TaskHandler<I, R>): Worker {
    return this.worker().handle(kind, handler);
  }

  /** This producer's worker (one per producer), configured with `options` when given. */
  worker(options?: WorkerOptions): Worker {
    if (!this.session) {
      throw new TypeError('A worker needs a command channel: connect() to a gateway by url or in-process.');
    }
    const session = this.session;
    if (!this.#worker) {
      this.#worker = new Worker(
        { open: (o) => this.open(o), announce: (w) => session.setStarter(w) },
        options,
      );
    } else if (options) {
      this.#worker.configure(options);
    }
    return this.#worker;
  }

  /** @internal startTask, also telling at which seq `task:start` was stored. */
  open(options: StartTaskOptions): Promise<{ task: TaskHandle; seq: number }> {
    const { taskId = newId(), ...start } = options;
    const stream = taskStream(taskId);
    try {
      assertStreamName(stream);
    } catch (err) {
      return this.outbox.refuse(stream, err, [{ type: 'task:start', data: options }]);
    }
    const task = new TaskHandle(this.outbox, taskId, stream, start.projectId, this.session);
    // Claimed before the start is published, so a cancel right after it finds its producer.
    this.session?.claim(task);
    return quiet(
      task.emit('task:start', { ...start, taskId }).then(
        (seq) => ({ task, seq }),
        (err: unknown) => {
          this.session?.ended(task);
          throw err;
        },
      ),
    );
  }

  /**
   * Publishes raw catalog events to any stream (`project:acme`, `system` …), with the same
   * validation, ordering and retries as the handles. An event without an id gets one; with an id,
   * it is the caller's idempotency key. Nothing is queued unless every event is valid.
   */
  publish(stream: string, events: AnyEventInput[]): Promise<Ack[]> {
    let prepared: PreparedEvent[];
    try {
      assertStreamName(stream);
      prepared = events.map((e, i) => {
        try {
          return prepareEvent(e.type, e.data, e.id ?? newId(), e.trace ?? activeTraceContext());
        } catch (err) {
          if (err instanceof Error) err.message = `events[${i}]: ${err.message}`;
          throw err;
        }
      });
    } catch (err) {
      return this.outbox.refuse(stream, err, events);
    }
    return this.outbox.submitAll(stream, prepared);
  }

  /** Resolves once every event sent so far has been stored or has failed. */
  flush(): Promise<void> {
    return this.outbox.flush();
  }

  /**
   * Refuses new events, waits for the queued ones to be delivered (or to run out of retries), then
   * closes the command channel. Tasks still running then are marked orphaned by the gateway at once.
   */
  async close(): Promise<void> {
    try {
      await this.outbox.close();
    } finally {
      await this.session?.close();
    }
  }
}
