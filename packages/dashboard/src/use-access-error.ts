import { useEffect, useState } from 'react';
import { useAgentwireClient } from '@agentwire/react';

/**
 * Why the gateway refused this page's connection, in words for the reader, or undefined. Without a
 * valid token the connection is closed for good (the client stops retrying), so say what to do.
 */
export function useAccessError(): string | undefined {
  const client = useAgentwireClient();
  const [problem, setProblem] = useState<string | undefined>(undefined);
  useEffect(
    () =>
      client.on('error', (err) => {
        if (err.code === 'unauthorized' || err.code === 'token_expired') {
          setProblem(
            'this gateway needs a token: open the dashboard link the gateway printed (it ends in ?token=…)',
          );
        } else if (err.code === 'forbidden') {
          setProblem(`the gateway refused this token: ${err.message}`);
        }
      }),
    [client],
  );
  return problem;
}
