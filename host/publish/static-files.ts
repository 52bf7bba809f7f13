// Serving the monitor's built files (monitor/dist/) and its /config.json from an
// HTTP server. Hand-written (a few lines) rather than a static-file package: only
// GET/HEAD of files under one folder, no directory listings, no path escapes.
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { packageFile } from '../../common/package-root.js';

export const MONITOR_DIST = packageFile('monitor/dist/');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** What the monitor reads at /config.json to find its broker. */
export interface MonitorConfig {
  /** WebSocket URL of the broker; null = same host and port as the page, path /mqtt */
  broker: string | null;
  /** device to show first; null = the first one seen on aunet/+/status */
  device: string | null;
}

export function monitorAvailable(root = MONITOR_DIST): boolean {
  return existsSync(join(root, 'index.html'));
}

/** A request handler for GET/HEAD; answers 404 when the monitor is not built. */
export function staticHandler(root: string, config: MonitorConfig) {
  const base = resolve(root);
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/config.json') {
      const body = JSON.stringify(config);
      res.writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const rel = normalize(path === '/' ? '/index.html' : path);
    const file = resolve(join(base, rel));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end();
      return;
    }
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      const msg = monitorAvailable(base) ? 'not found\n' : 'The monitor is not built: run `npm run build:monitor`.\n';
      res.writeHead(404, { 'content-type': TYPES['.txt'] }).end(msg);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size, 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  };
}
