// Serving the monitor's built files (monitor/dist/) and its /config.json behind
// the HTTP guard (http-guard.ts). Files come from sirv, which lists the folder
// once and answers only names it found there: no path from a request ever
// reaches the file system, so there is no traversal to get wrong.
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import sirv from 'sirv';
import { packageFile } from '../../common/package-root.js';
import { answer, type GuardedHandler } from './http-guard.js';

export const MONITOR_DIST = packageFile('monitor/dist/');

/** What the monitor reads at /config.json to find its broker (docs/monitor.md). */
export interface MonitorConfig {
  /** WebSocket URL of the broker; null = same host and port as the page, path /mqtt */
  broker: string | null;
  /** device to show first; null = the first one seen on aunet/+/status */
  device: string | null;
  /** whether an operator account exists (false: the page says none is configured); null = not known here (external broker) */
  operators: boolean | null;
}

export function monitorAvailable(root = MONITOR_DIST): boolean {
  return existsSync(join(root, 'index.html'));
}

type Files = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * The monitor's files and config (evaluated per request: operators can be added while it runs).
 * `root` may be a function: the box serves the monitor bundle of the image it runs, which an
 * update changes (each folder is listed once, when first served).
 */
export function monitorHandler(root: string | (() => string), config: () => MonitorConfig): GuardedHandler {
  const rootOf = typeof root === 'string' ? () => root : root;
  let files: { root: string; serve: Files } | null = null;
  const load = (): Files | null => {
    const dir = rootOf();
    // listed once; a monitor built after the server started is picked up on the next request
    if (files?.root !== dir) files = monitorAvailable(dir) ? { root: dir, serve: sirv(dir, { dev: false, etag: true, dotfiles: false, extensions: [] }) } : null;
    return files?.serve ?? null;
  };
  return (req, res, path) => {
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : JSON.stringify(config()));
      return;
    }
    const serve = load();
    if (!serve) return answer(res, 404, 'The monitor is not built: run `npm run build:monitor`.\n');
    // ranges are never needed here, and sirv reads "bytes=5-2" into a stream that throws
    delete req.headers.range;
    if (path === '/') req.url = '/index.html';
    serve(req, res, () => answer(res, 404, 'not found\n'));
  };
}
