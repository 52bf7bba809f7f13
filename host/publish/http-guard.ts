// The one HTTP front of the box (the embedded broker's port and `aunet monitor`):
// a request is judged before any handler sees it, and nothing a client sends
// can make the server throw. Malformed request targets answer 400, unknown
// paths 404, methods other than GET/HEAD 405, oversized targets 414 and
// oversized headers 431 (Node's parser, bounded by maxHeaderSize); a Host that
// names a DNS name we do not serve answers 421 (DNS rebinding). Every response,
// errors included, carries the security headers (docs/security.md, "HTTP").
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';

/** Longest request target accepted (the monitor's URLs are a few dozen bytes). */
export const MAX_URL_BYTES = 2048;
/** All request headers together (Node's default is 16 KiB). */
export const MAX_HEADER_BYTES = 8192;

export interface HttpGuardOptions {
  /** origins the page may open WebSockets to besides its own (the broker of `aunet monitor --broker`) */
  connectSources?: readonly string[];
  /** DNS names the Host header may carry besides localhost and IP literals (a box's name on the hospital network) */
  allowedHosts?: readonly string[];
}

export interface Refusal {
  status: number;
  reason: string;
}

export type Verdict = { ok: true; path: string } | ({ ok: false } & Refusal);

/** Host header check: IP literals and localhost always, DNS names only when listed (a rebound name is refused). */
export function hostAllowed(host: string | undefined, allowedHosts: readonly string[] = []): boolean {
  if (host === undefined || host.length === 0 || host.length > 255) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host);
  if (!m) return false;
  const name = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1].toLowerCase();
  if (isIP(name) !== 0 || name === 'localhost') return true;
  return allowedHosts.some((h) => h.toLowerCase() === name);
}

/** Judge method, target and Host of a request: pure, never throws. `path` is the decoded pathname. */
export function judgeRequest(method: string | undefined, url: string | undefined, headers: IncomingHttpHeaders, allowedHosts: readonly string[] = []): Verdict {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false, status: 405, reason: 'only GET and HEAD' };
  if (url === undefined || url.length === 0) return { ok: false, status: 400, reason: 'no request target' };
  if (url.length > MAX_URL_BYTES) return { ok: false, status: 414, reason: `request target over ${MAX_URL_BYTES} bytes` };
  if (!hostAllowed(headers.host, allowedHosts)) return { ok: false, status: 421, reason: 'Host not served here' };
  // origin-form only ("/path?query"): absolute-form and "*" are for proxies
  if (url[0] !== '/') return { ok: false, status: 400, reason: 'request target must start with /' };
  const q = url.search(/[?#]/);
  const raw = q < 0 ? url : url.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding' };
  }
  // control characters, backslashes and dot segments have no business in the monitor's paths
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path) || /(^|\/)\.\.?(\/|$)/.test(path)) return { ok: false, status: 400, reason: 'path not allowed' };
  return { ok: true, path };
}

/**
 * The headers every response carries: the page may talk to its own origin and
 * its broker, nothing else, and is never framed. worker-src blob: is for
 * mqtt.js's timer worker, which keeps the MQTT keepalive going while the tab is
 * in the background (Chrome throttles a background page's own timers).
 */
export function securityHeaders(connectSources: readonly string[] = []): Record<string, string> {
  const connect = ["'self'", ...connectSources].join(' ');
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; worker-src 'self' blob:; style-src 'self'; img-src 'self' data:; connect-src ${connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}

/** The origin of a ws:// or wss:// URL as a CSP source (ws://host:port); null if it is not one. */
export function webSocketOrigin(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'ws:' || u.protocol === 'wss:' ? `${u.protocol}//${u.host}` : null;
  } catch {
    return null;
  }
}

export type GuardedHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void;

/** Wrap a handler: headers first, then the verdict, and a handler that throws answers 500 instead of ending the process. */
export function guard(handler: GuardedHandler, opts: HttpGuardOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const headers = securityHeaders(opts.connectSources);
  return (req, res) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    const v = judgeRequest(req.method, req.url, req.headers, opts.allowedHosts);
    if (!v.ok) {
      if (v.status === 405) res.setHeader('allow', 'GET, HEAD');
      answer(res, v.status, `${v.reason}\n`);
      return;
    }
    try {
      handler(req, res, v.path);
    } catch {
      if (!res.headersSent) answer(res, 500, 'internal error\n');
      else res.destroy();
    }
  };
}

/** A plain-text answer (nothing from the request is echoed). */
export function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(res.req.method === 'HEAD' ? undefined : text);
}

/** An HTTP server with bounded headers and timeouts (a slow client cannot hold it), the handler guarded. */
export function createGuardedServer(handler: GuardedHandler, opts: HttpGuardOptions = {}): Server {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, guard(handler, opts));
  const extra = Object.entries(securityHeaders(opts.connectSources)).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  // a request Node's parser refuses (bad syntax, headers over maxHeaderSize) gets an answer with the same headers, then the socket closes
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n${extra}\r\n`);
  });
  return server;
}
