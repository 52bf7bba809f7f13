// Who may open a WebSocket to the box: every browser sends Origin with an
// upgrade, so a request that carries one must come from the page's own origin
// (the Host it asked for) or from one listed in the config; a request without
// Origin comes from a program, not a web page, and is judged by its MQTT
// credentials like a TCP client. The Host must be one we serve (http-guard.ts),
// which also defeats DNS rebinding. Pure: the embedded broker and the monitor's
// bridge call it from their 'upgrade' handlers (docs/security.md).
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { hostAllowed, judgeRequest, securityHeaders, type Refusal } from './http-guard.js';

export interface OriginPolicy {
  /** origins besides the page's own, e.g. 'https://monitor.hospital.lan' (broker.allowedOrigins) */
  allowedOrigins?: readonly string[];
  /** DNS names the Host header may carry (see hostAllowed) */
  allowedHosts?: readonly string[];
  /** refuse requests without Origin too: for an endpoint only the monitor page uses (the bridge; programs reach the broker itself) */
  requireOrigin?: boolean;
}

/** The canonical origin of an Origin header value ('scheme://host[:port]'), or null for 'null' and garbage. */
export function canonicalOrigin(value: string): string | null {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.origin;
  } catch {
    return null;
  }
}

/** Judge a WebSocket upgrade by its Host and Origin headers: null when allowed. */
export function judgeUpgrade(headers: IncomingHttpHeaders, policy: OriginPolicy = {}): Refusal | null {
  if (!hostAllowed(headers.host, policy.allowedHosts)) return { status: 421, reason: 'Host not served here' };
  const origin = headers.origin;
  if (origin === undefined) return policy.requireOrigin ? { status: 403, reason: 'Origin required (only the monitor page connects here)' } : null;
  const o = canonicalOrigin(origin);
  if (o === null) return { status: 403, reason: 'Origin not allowed' };
  const own = [`http://${headers.host}`, `https://${headers.host}`].map(canonicalOrigin);
  const listed = (policy.allowedOrigins ?? []).map(canonicalOrigin);
  return own.includes(o) || listed.includes(o) ? null : { status: 403, reason: 'Origin not allowed' };
}

/**
 * Judge a whole WebSocket upgrade request: the request target (as any HTTP
 * request, http-guard.ts), the endpoint's path, then Host and Origin. The
 * embedded broker's /mqtt and the monitor's MQTT bridge both call this.
 */
export function judgeWebSocketRequest(req: IncomingMessage, path: string, policy: OriginPolicy = {}): Refusal | null {
  const target = judgeRequest(req.method, req.url, req.headers, policy.allowedHosts);
  if (!target.ok) return target;
  if (target.path !== path) return { status: 404, reason: 'no WebSocket here' };
  return judgeUpgrade(req.headers, policy);
}

/** Answer a refused upgrade on its raw socket (with the security headers) and close it. */
export function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  socket.end(`HTTP/1.1 ${refusal.status} ${refusal.reason}\r\nconnection: close\r\ncontent-length: 0\r\n${REFUSAL_HEADERS}\r\n`);
}

const REFUSAL_HEADERS = Object.entries(securityHeaders()).map(([k, v]) => `${k}: ${v}\r\n`).join('');
