import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Edge } from '../edge/edge.js';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** The dashboard (or any built single-page app) at `/`, last in line: what no other edge took. */
export class StaticFiles implements Edge {
  constructor(private readonly dir: string) {}

  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    return serveStatic(this.dir, url.pathname, req, res);
  }
}

/**
 * Serves a built single-page app from `dir`; unknown paths without an extension fall back to
 * index.html so client-side routes survive a reload. Paths are confined to `dir`.
 */
export function serveStatic(
  dir: string,
  pathname: string,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const root = resolve(dir);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  if (decoded.includes('\0')) return false;
  let file = resolve(join(root, normalize(decoded)));
  if (file !== root && !file.startsWith(root + sep)) return false;
  let stats = statSafe(file);
  if (!stats?.isFile()) {
    if (extname(decoded)) return false;
    file = join(root, 'index.html');
    stats = statSafe(file);
    if (!stats?.isFile()) return false;
  }
  const immutable = file.includes(`${sep}assets${sep}`);
  res.writeHead(200, {
    'content-type': types[extname(file)] ?? 'application/octet-stream',
    'content-length': stats.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
