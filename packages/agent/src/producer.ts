import { assertStreamName, taskStream, type EventData } from '@agentwire/protocol';
import { newId } from './ids.js';
import { quiet, type Outbox } from './outbox.js';
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
      return this.outbox.refuse(stream, err, { type: 'task:start', data: options });
    }
    const task = new TaskHandle(this.outbox, taskId, stream, start.projectId);
    return quiet(task.emit('task:start', { ...start, taskId }).then(() => task));
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
