import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from '@agentwire/client';
import { AgentwireProvider } from '@agentwire/react';
import { App } from './app.js';
import { getToken } from './auth.js';
import './styles.css';

// The gateway serves this page, so it is also the gateway to connect to. One client for the whole
// app: one connection, one subscription per stream, shared by every view through the provider.
// `?transport=sse` (or `polling`, `websocket`) pins one transport: for trying the fallbacks, or behind
// a proxy known to break the others. Without it the client picks the best that works, by itself.
const pinned = new URLSearchParams(location.search).get('transport');
const transports = (['websocket', 'sse', 'polling'] as const).filter((t) => t === pinned);
const tokenSource = getToken();
const client = createClient({
  url: location.origin,
  ...(tokenSource && { getToken: tokenSource }),
  ...(transports.length > 0 && { transports }),
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AgentwireProvider client={client}>
      <App />
    </AgentwireProvider>
  </StrictMode>,
);
