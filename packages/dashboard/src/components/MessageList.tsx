import { memo, type ReactNode } from 'react';
import type { TaskState } from '@agentwire/protocol';

/** The agents' messages as they stream in, token by token; a caret marks the ones still being written. */
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
        return (
          <li key={id} className={`message message-${m.role}`} data-message-id={id}>
            <div className="message-who">{who}</div>
            <div className="message-text">
              {m.text}
              {!m.done && <span className="caret" aria-hidden="true" />}
            </div>
          </li>
        );
      })}
    </ol>
  );
});
