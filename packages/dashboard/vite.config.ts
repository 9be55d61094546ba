import { defineConfig } from 'vite';

// `npm run dev -w @agentwire/dashboard` serves the app with hot reload and forwards the API and
// the WebSocket to a gateway (by default `agentwire demo --port 7090`).
const gateway = process.env.AGENTWIRE_GATEWAY ?? 'http://127.0.0.1:7090';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    sourcemap: false,
    // One small app: a single chunk loads faster from the gateway than a waterfall of them.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/v1': { target: gateway, ws: true },
      '/healthz': gateway,
      '/metrics': gateway,
    },
  },
});
