import { assertStreamName, taskStream, type AnyEventInput, type EventData } from '@agentwire/protocol';
import { newId } from './ids.js';
import { quiet, type Outbox } from './outbox.js';
import { prepareEvent, type PreparedEvent } from './prepare.js';
import type { Ack } from './stream-queue.js';
import { TaskHandle } from './task.js';

export type StartTaskOptions = Omit<EventData<'task:start'>, 'taskId'> & { taskId?: string };

/** What `connect()` returns: starts tasks and owns the outbox every handle publishes through. */
export class Producer {
  /** @internal */
  constructor(private readonly outbox: Outbox) {}

  /** Publishes `task:start` and resolves with the task's handle once the gateway has stored it. */
  startTask(options: StartTaskOptions): Promise<TaskHandle> {
    const { taskId = newId(), ...start } = options;
    const stream = taskStream(taskId);
    try {
      assertStreamName(stream);
    } catch (err) {
      return this.outbox.refuse(stream, err, [{ type: 'task:start', data: options }]);
    }
    const task = new TaskHandle(this.outbox, taskId, stream, start.projectId);
    return quiet(task.emit('task:start', { ...start, taskId }).then(() => task));
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
          return prepareEvent(e.type, e.data, e.id ?? newId());
        } catch (err) {
          if (err instanceof Error) err.message = `events[${i}]: ${err.message}`;
          throw err;
        }
      });
    } catch (err) {
      return this.outbox.refuse(stream, err, events);
    }
    return quiet(Promise.all(prepared.map((e) => this.outbox.submitForAck(stream, e))));
  }

  /** Resolves once every event sent so far has been stored or has failed. */
  flush(): Promise<void> {
    return this.outbox.flush();
  }

  /** Refuses new events, then waits for the queued ones to be delivered (or to run out of retries). */
  close(): Promise<void> {
    return this.outbox.close();
  }
}
