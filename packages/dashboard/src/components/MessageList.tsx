import { memo, type ReactNode } from 'react';
import type { MessageState, TaskState } from '@agentwire/protocol';

/**
 * The agents' messages as they stream in, token by token; a caret marks the ones still being
 * written. Each message is its own memoized row: the reducer replaces only the entry of the message
 * a delta grows, so a token re-renders that one row, not the whole transcript.
 */
export const MessageList = memo(function MessageList({
  messages,
  order,
  agents,
}: {
  messages: TaskState['messages'];
  order: readonly string[];
  agents: TaskState['agents'];
}): ReactNode {
  if (order.length === 0) return <p className="muted">No messages yet.</p>;
  return (
    <ol className="messages" aria-live="polite" aria-relevant="additions text">
      {order.map((id) => {
        const m = messages[id];
        if (!m) return null;
        const who = m.agentId ? (agents[m.agentId]?.name ?? m.agentId) : m.role;
        return <Message key={id} message={m} who={who} />;
      })}
    </ol>
  );
});

const Message = memo(function Message({
  message: m,
  who,
}: {
  message: MessageState;
  who: string;
}): ReactNode {
  return (
    <li className={`message message-${m.role}`} data-message-id={m.messageId}>
      <div className="message-who">{who}</div>
      <div className="message-text">
        {m.text}
        {/* Keyed by the text's length: each growth remounts the caret, restarting its animation's
            delay, so it blinks only once the text has stalled and not in every frame of a stream. */}
        {!m.done && <span key={m.text.length} className="caret" aria-hidden="true" />}
      </div>
    </li>
  );
});
