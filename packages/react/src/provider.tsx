import { useEffect, useState, type ReactNode } from 'react';
import { createClient, type Client, type ClientOptions } from '@agentwire/client';
import { AgentwireContext } from './context.js';

export type AgentwireProviderProps = { children?: ReactNode } & (
  | {
      /** A client you created (and close) yourself; the provider only shares it. */
      client: Client;
      options?: never;
    }
  | {
      client?: never;
      /** Options for a client the provider creates on mount and closes on unmount. */
      options: ClientOptions;
    }
);

/**
 * Makes one client available to every agentwire hook below it. One client means one connection
 * and one subscription per stream, however many components watch the same task.
 */
export function AgentwireProvider(props: AgentwireProviderProps): ReactNode {
  const { client: given, options, children } = props;
  const [owned, setOwned] = useState<Client | null>(null);
  const url = options?.url;

  useEffect(() => {
    if (given || !options) return;
    // Created in an effect, not during render, so a discarded render (StrictMode, Suspense) never
    // leaves a connection open; the effect's cleanup closes exactly the client it created.
    const created = createClient(options);
    setOwned(created);
    return () => {
      setOwned(null);
      void created.close();
    };
    // Recreated when the gateway changes, not on every new options object a parent renders.
  }, [given, url]);

  const client = given ?? owned;
  if (!client) return null;
  return <AgentwireContext.Provider value={client}>{children}</AgentwireContext.Provider>;
}
