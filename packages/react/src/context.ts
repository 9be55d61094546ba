import { createContext } from 'react';
import type { Client } from '@agentwire/client';

/** The client the hooks below a provider share; null outside any provider. */
export const AgentwireContext = createContext<Client | null>(null);
AgentwireContext.displayName = 'AgentwireContext';
