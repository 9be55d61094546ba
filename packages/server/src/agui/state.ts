import type { TaskState } from '@agentwire/protocol';

/** The task's state as AG-UI's shared state: what `STATE_SNAPSHOT` carries and `STATE_DELTA` patches. */
export type AgUiTaskState = Omit<
  TaskState,
  'stream' | 'epoch' | 'seq' | 'updatedAt' | 'eventCount' | 'messages' | 'messageOrder'
>;

/**
 * The reducer's state without what would make every event a state change: the position fields
 * (`seq`, `updatedAt`, `eventCount`, which the events' own metadata carry) and the messages, which
 * AG-UI carries as messages. Everything else (status, stage, progress, agents, tools, questions,
 * recent logs, result) is the reducer's, unchanged. Branches are shared, not copied.
 */
export function agUiState(state: TaskState): AgUiTaskState {
  const {
    stream: _stream,
    epoch: _epoch,
    seq: _seq,
    updatedAt: _updatedAt,
    eventCount: _eventCount,
    messages: _messages,
    messageOrder: _messageOrder,
    ...rest
  } = state;
  return rest;
}
