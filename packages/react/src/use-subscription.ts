import { useEffect, useState } from 'react';
import type { Subscription } from '@agentwire/client';
import { acquire } from './shared.js';
import { useAgentwireClient } from './use-client.js';

/**
 * The shared subscription to `stream` (undefined while `stream` is undefined). For listeners the
 * other hooks do not cover, such as `reset` or typed events: `sub.on('question:asked', …)`.
 */
export function useSubscription(stream: string | undefined): Subscription | undefined {
  const client = useAgentwireClient();
  const [sub, setSub] = useState<Subscription | undefined>(undefined);
  useEffect(() => {
    if (stream === undefined) {
      setSub(undefined);
      return;
    }
    const share = acquire(client, stream);
    setSub(share.sub);
    return () => {
      share.release();
    };
  }, [client, stream]);
  // A subscription to another stream may linger for one render after `stream` changed.
  return sub && sub.stream === stream ? sub : undefined;
}
