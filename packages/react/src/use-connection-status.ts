import { useCallback, useSyncExternalStore } from 'react';
import type { ClientStatus } from '@agentwire/client';
import { useAgentwireClient } from './use-client.js';

/**
 * The client's connection: `connecting`, the transport in use (`websocket`, and `sse` or `polling`
 * where the client falls back to them), `offline` while waiting to reconnect, or `closed`.
 */
export function useConnectionStatus(): ClientStatus {
  const client = useAgentwireClient();
  const subscribe = useCallback((onChange: () => void) => client.on('status', onChange), [client]);
  return useSyncExternalStore(
    subscribe,
    () => client.status,
    () => client.status,
  );
}
