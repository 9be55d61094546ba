import { useEffect, useRef, useState } from 'react';
import type { AnyEnvelope, EventType } from '@agentwire/client';
import { useSubscription } from './use-subscription.js';

export interface UseStreamOptions<T extends EventType = EventType> {
  /** Keep only these event types. Default: all. */
  types?: readonly T[];
  /** Most events kept; older ones are dropped first. Default 1000. */
  max?: number;
}

export interface LiveStream<T extends EventType = EventType> {
  /** The newest events, oldest first, at most `max`. */
  events: Extract<AnyEnvelope, { type: T }>[];
  /** How many matching events arrived since the hook mounted, including those dropped by `max`. */
  total: number;
}

/** Bursts of events (a streamed answer, a replay after a reconnect) render once per frame. */
const schedule: (fn: () => void) => void =
  typeof requestAnimationFrame === 'function'
    ? (fn) => requestAnimationFrame(fn)
    : (fn) => setTimeout(fn, 16);

/**
 * The live events of a stream, in order and each once (across reconnects too), from the moment the
 * hook mounts. For history, read `GET /v1/streams/{stream}/events` and continue from its last seq.
 *
 * ```tsx
 * const { events } = useStream('task:42', { types: ['log:entry'], max: 200 });
 * return <ul>{events.map((e) => <li key={e.seq}>{e.data.message}</li>)}</ul>;
 * ```
 */
export function useStream<T extends EventType = EventType>(
  stream: string | undefined,
  options: UseStreamOptions<T> = {},
): LiveStream<T> {
  const sub = useSubscription(stream);
  const max = Math.max(1, options.max ?? 1000);
  const typesKey = options.types ? [...options.types].sort().join(',') : '';
  const [view, setView] = useState<LiveStream<T>>({ events: [], total: 0 });
  const buffer = useRef<LiveStream<T>>(view);

  useEffect(() => {
    const empty: LiveStream<T> = { events: [], total: 0 };
    buffer.current = empty;
    setView(empty);
    if (!sub) return;
    const wanted = typesKey === '' ? undefined : new Set(typesKey.split(','));
    let pending = false;
    let live = true;
    const flush = () => {
      pending = false;
      if (live) setView(buffer.current);
    };
    const off = sub.onEvent((e) => {
      if (wanted && !wanted.has(e.type)) return;
      const prev = buffer.current;
      const events =
        prev.events.length >= max ? prev.events.slice(prev.events.length - max + 1) : prev.events.slice();
      events.push(e as Extract<AnyEnvelope, { type: T }>);
      buffer.current = { events, total: prev.total + 1 };
      if (!pending) {
        pending = true;
        schedule(flush);
      }
    });
    return () => {
      live = false;
      off();
    };
  }, [sub, typesKey, max]);

  return view;
}
