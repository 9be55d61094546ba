import { timeOrderedId } from '@agentwire/protocol';

/**
 * Ids for events, tasks, agents, tool calls and messages. Time-ordered (UUIDv7), so the log's
 * idempotency index takes them at its end rather than at random pages.
 */
export function newId(): string {
  return timeOrderedId();
}
