import { dialectNames, isDialectName, type DialectName } from '../dialect.js';

export interface SocketIoPath {
  /** URL path Socket.IO answers on, e.g. `/mageagent/socket.io` (a client's `path` option). */
  path: string;
  dialect: DialectName;
}

export interface SocketIoOptions {
  /** Paths and the dialect each speaks; replaces DEFAULT_SOCKETIO_PATHS when given. */
  paths?: SocketIoPath[];
  /** Origins allowed by CORS on the polling transport. Default `*`, as the seed servers had it. */
  corsOrigin?: string | string[];
}

/**
 * The native protocol on Socket.IO's default path, and each seed dialect on a path of its own.
 * A frontend that hard-codes `/socket.io` gets its dialect by configuration (`/socket.io=progress`),
 * by a proxy rewrite, or by connecting to the dialect's namespace (docs/dialects.md).
 */
export const DEFAULT_SOCKETIO_PATHS: readonly SocketIoPath[] = [
  { path: '/socket.io', dialect: 'native' },
  { path: '/mageagent/socket.io', dialect: 'mageagent' },
  { path: '/progress/socket.io', dialect: 'progress' },
  { path: '/dashboard/socket.io', dialect: 'flask-dashboard' },
];

/** Paths the gateway serves itself; Socket.IO may not take them over. */
const RESERVED = ['/v1', '/ws', '/api', '/healthz', '/readyz'];

export function normalizeSocketIoPath(path: string): string {
  const p = `/${path.trim()}`.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  if (p === '' || p === '/' || !/^[A-Za-z0-9._~\-/]+$/.test(p)) {
    throw new Error(`Invalid Socket.IO path ${JSON.stringify(path)}: use a URL path such as /socket.io.`);
  }
  if (RESERVED.some((r) => p === r || p.startsWith(`${r}/`))) {
    throw new Error(`Socket.IO path ${p} would shadow the gateway's own routes (${RESERVED.join(', ')}).`);
  }
  return p;
}

/** Parses `path=dialect`, the form of `--socketio-path` and `AGENTWIRE_SOCKETIO_PATHS` entries. */
export function parseSocketIoPath(spec: string): SocketIoPath {
  const eq = spec.lastIndexOf('=');
  const dialect = spec.slice(eq + 1).trim();
  if (eq <= 0 || !isDialectName(dialect)) {
    throw new Error(
      `Invalid Socket.IO path ${JSON.stringify(spec)}: use path=dialect, dialect one of ${dialectNames.join(', ')}.`,
    );
  }
  return { path: normalizeSocketIoPath(spec.slice(0, eq)), dialect };
}
