// The dashboard ships as static files; this tells a server (the CLI's `serve`) where they are.
import { fileURLToPath } from 'node:url';

/** Absolute path of the built single-page app (index.html and assets/). */
export const dashboardDir = fileURLToPath(new URL('./dist/app/', import.meta.url));
