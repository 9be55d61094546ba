import { reduceTask, type AgUiMessage, type TaskState } from '@agentwire/protocol';
import type { LogEngine } from '../log/engine.js';
import type { SnapshotService } from '../snapshots.js';
import { MessageBook, messagesFromState } from './messages.js';

const READ_CHUNK = 1_000;

export interface PositionedState {
  state: TaskState | undefined;
  /** The conversation at that position, when asked for. */
  messages?: AgUiMessage[];
}

/**
 * A task's state at exactly `seq` (where a resuming run picks up), and with `withMessages` its
 * conversation there (a late joiner's `MESSAGES_SNAPSHOT`), folded from the log. When retention
 * has trimmed the start of the history, the state comes from the retention checkpoint instead and
 * the conversation from that state, which does not keep how messages and tool calls interleaved.
 */
export async function stateAt(
  engine: LogEngine,
  snapshots: SnapshotService,
  stream: string,
  seq: number,
  withMessages: boolean,
): Promise<PositionedState> {
  if (seq === 0) return { state: undefined, ...(withMessages && { messages: [] }) };
  const book = withMessages ? new MessageBook() : undefined;
  let state: TaskState | undefined;
  let after = 0;
  while (after < seq) {
    const chunk = await engine.read(stream, after, Math.min(READ_CHUNK, seq - after));
    if (chunk.first > after + 1) {
      const folded = await snapshots.stateThrough(stream, seq);
      return { state: folded, ...(withMessages && { messages: folded ? messagesFromState(folded) : [] }) };
    }
    if (chunk.events.length === 0) break;
    for (const e of chunk.events) {
      state = reduceTask(state, e);
      book?.apply(e, state);
    }
    after = chunk.events[chunk.events.length - 1]!.seq;
  }
  return { state, ...(book && { messages: book.messages }) };
}
