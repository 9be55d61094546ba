import { useContext } from 'react';
import type { Client } from '@agentwire/client';
import { AgentwireContext } from './context.js';

/** The client of the nearest {@link AgentwireProvider}; throws outside one, which is always a bug. */
export function useAgentwireClient(): Client {
  const client = useContext(AgentwireContext);
  if (!client) {
    throw new Error('useAgentwireClient: wrap your components in <AgentwireProvider client={…}> first');
  }
  return client;
}
