import { useEffect, useState } from 'react';
import { useAgentwireClient } from '@agentwire/react';
import { fetchStats } from './api.js';

const POLL_MS = 5_000;

/** Subscribers of `stream` as the gateway counts them, or undefined if it does not report presence. */
export function usePresence(stream: string): number | undefined {
  const client = useAgentwireClient();
  const [count, setCount] = useState<number | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const poll = async () => {
      // While the connection is down the gateway likely is too: skip, and keep the last count.
      const status = client.status;
      if (status === 'offline' || status === 'connecting' || status === 'closed') {
        timer = setTimeout(() => void poll(), POLL_MS);
        return;
      }
      try {
        const stats = await fetchStats(controller.signal);
        if (stopped) return;
        if (!stats.watchers || typeof stats.watchers !== 'object') {
          setCount(undefined);
          return; // no presence on this gateway: stop asking
        }
        setCount(stats.watchers[stream] ?? 0);
      } catch {
        // The badge shows connection trouble; presence just keeps its last value.
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [client, stream]);
  return count;
}
