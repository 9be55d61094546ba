import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { AgentwireError, Subscription, TaskState } from '@agentwire/client';
import { perFrame } from './next-frame.js';
import { useSubscription } from './use-subscription.js';

export interface LiveTask {
  /** The task folded by the shared reducer; undefined until the first snapshot (or for an unknown task). */
  state: TaskState | undefined;
  /** `loading` until the gateway confirmed the subscription, `error` once it refused the stream. */
  phase: 'loading' | 'live' | 'error';
  /** The last error the gateway raised about this stream, if any. */
  error: AgentwireError | undefined;
  /** The shared subscription, for commands or extra listeners; undefined while loading the hook. */
  subscription: Subscription | undefined;
}

const noState = () => undefined;
const noSubscribe = () => () => {};

/**
 * A task's live state: a snapshot on subscribe, then every event folded in with the protocol's
 * reducer, surviving reconnects without gaps. Re-renders at most once per animation frame and
 * only when the state object changed, and unchanged branches (agents, tools, logs, the messages a
 * delta did not touch) keep their identity, so `memo` children stay put.
 *
 * ```tsx
 * const { state } = useTask('task:42');
 * return <progress value={state?.progress?.percent ?? 0} max={100} />;
 * ```
 */
export function useTask(stream: string | undefined): LiveTask {
  const sub = useSubscription(stream);
  // A task streaming tokens changes state per token; one render per frame shows them all.
  const subscribe = useMemo(
    () => perFrame((onChange: () => void) => (sub ? sub.on('state', onChange) : () => {})),
    [sub],
  );
  const state = useSyncExternalStore(
    sub ? subscribe : noSubscribe,
    sub ? () => sub.state : noState,
    sub ? () => sub.state : noState,
  );
  const [phase, setPhase] = useState<LiveTask['phase']>('loading');
  const [error, setError] = useState<AgentwireError | undefined>(undefined);

  useEffect(() => {
    setError(undefined);
    if (!sub) {
      setPhase('loading');
      return;
    }
    let current = true;
    setPhase(sub.position ? 'live' : 'loading');
    sub.ready.then(
      () => current && setPhase('live'),
      (err: AgentwireError) => {
        if (!current) return;
        setPhase('error');
        setError(err);
      },
    );
    const off = sub.on('error', (err) => setError(err));
    return () => {
      current = false;
      off();
    };
  }, [sub]);

  return { state, phase, error, subscription: sub };
}
