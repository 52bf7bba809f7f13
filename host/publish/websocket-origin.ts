// Who may open a WebSocket to the box: every browser sends Origin with an
// upgrade, so a request that carries one must come from the page's own origin
// (the Host it asked for) or from one listed in the config; a request without
// Origin comes from a program, not a web page, and is judged by its MQTT
// credentials like a TCP client. The Host must be one we serve (http-guard.ts),
// which also defeats DNS rebinding. Pure: the embedded broker and the monitor's
// bridge call it from their 'upgrade' handlers (docs/security.md).
import type { IncomingHttpHeaders } from 'node:http';
import { hostAllowed, type Refusal } from './http-guard.js';

export interface OriginPolicy {
  /** origins besides the page's own, e.g. 'https://monitor.hospital.lan' (broker.allowedOrigins) */
  allowedOrigins?: readonly string[];
  /** DNS names the Host header may carry (see hostAllowed) */
  allowedHosts?: readonly string[];
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
  if (origin === undefined) return null;
  const o = canonicalOrigin(origin);
  if (o === null) return { status: 403, reason: 'Origin not allowed' };
  const own = [`http://${headers.host}`, `https://${headers.host}`].map(canonicalOrigin);
  const listed = (policy.allowedOrigins ?? []).map(canonicalOrigin);
  return own.includes(o) || listed.includes(o) ? null : { status: 403, reason: 'Origin not allowed' };
}
