import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from '@agentwire/client';
import { AgentwireProvider } from '@agentwire/react';
import { App } from './app.js';
import { gatewayUrl } from './auth.js';
import './styles.css';

// The gateway serves this page, so it is also the gateway to connect to. One client for the whole
// app: one connection, one subscription per stream, shared by every view through the provider.
const client = createClient({ url: gatewayUrl() });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AgentwireProvider client={client}>
      <App />
    </AgentwireProvider>
  </StrictMode>,
);
