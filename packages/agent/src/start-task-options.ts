import type { EventData } from '@agentwire/protocol';

/** What starts a task: its `task:start` data, the task id made up when not given. */
export type StartTaskOptions = Omit<EventData<'task:start'>, 'taskId'> & { taskId?: string };
