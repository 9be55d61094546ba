import { useMemo, useSyncExternalStore } from 'react';
import type { Subscription, TaskState } from '@agentwire/client';
import type { MessageState } from '@agentwire/protocol';
import { perFrame } from './next-frame.js';
import { useSubscription } from './use-subscription.js';

export interface LiveMessage {
  /** The message's text so far: the snapshot's, then every delta appended. Empty before it starts. */
  text: string;
  /** Which message; undefined until the task has one. */
  messageId: string | undefined;
  /** True once its `message:end` arrived. */
  done: boolean;
  /** The agent writing it, when the producer said. */
  agentId: string | undefined;
}

const none: LiveMessage = { text: '', messageId: undefined, done: false, agentId: undefined };

/** The message `messageId` of `state`, or its newest assistant message when none is named. */
export function pickMessage(state: TaskState | undefined, messageId?: string): MessageState | undefined {
  if (!state) return undefined;
  if (messageId !== undefined)
    return Object.hasOwn(state.messages, messageId) ? state.messages[messageId] : undefined;
  for (let i = state.messageOrder.length - 1; i >= 0; i--) {
    const m = state.messages[state.messageOrder[i]!];
    if (m?.role === 'assistant') return m;
  }
  return undefined;
}

/**
 * A store over one message of a subscription's task, for `useSyncExternalStore`: its snapshot is a
 * new object only when that message changed (the reducer replaces a message's entry on each delta
 * and keeps the others), so a component showing one answer is not re-rendered by the rest of the task.
 */
export function messageTextStore(sub: Subscription | undefined, messageId?: string) {
  let last: MessageState | undefined;
  let snapshot = none;
  const get = (): LiveMessage => {
    const m = pickMessage(sub?.state, messageId);
    if (m !== last) {
      last = m;
      snapshot = m ? { text: m.text, messageId: m.messageId, done: m.done, agentId: m.agentId } : none;
    }
    return snapshot;
  };
  const subscribe = (onChange: () => void) => (sub ? sub.on('state', onChange) : () => {});
  return { subscribe, get };
}

/**
 * The growing text of one message of a task: `messageId`'s, or by default the newest assistant
 * message, the answer being streamed. A late joiner starts from the text so far (from the
 * snapshot) and sees each delta appended; merged deltas from the gateway arrive as one longer step.
 * Re-renders at most once per animation frame, with all the text that arrived by then.
 *
 * ```tsx
 * const { text, done } = useMessageText('task:42');
 * return <p className={done ? '' : 'typing'}>{text}</p>;
 * ```
 */
export function useMessageText(stream: string | undefined, messageId?: string): LiveMessage {
  const sub = useSubscription(stream);
  const store = useMemo(() => messageTextStore(sub, messageId), [sub, messageId]);
  const subscribe = useMemo(() => perFrame(store.subscribe), [store]);
  return useSyncExternalStore(subscribe, store.get, store.get);
}

/**
 * The task's current answer: the newest assistant message as it is written, and the next one as
 * soon as it starts. `useMessageText(stream)` with no message named, by its purpose's name.
 *
 * ```tsx
 * const answer = useCurrentAnswer('task:42');
 * return <p aria-busy={!answer.done}>{answer.text}</p>;
 * ```
 */
export function useCurrentAnswer(stream: string | undefined): LiveMessage {
  return useMessageText(stream);
}
