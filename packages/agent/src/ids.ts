/** Ids for events, tasks, agents, tool calls and messages; UUIDs fit every id and stream-name pattern. */
export function newId(): string {
  return globalThis.crypto.randomUUID();
}
