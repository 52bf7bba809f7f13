// Which pages may open a WebSocket to a broker endpoint we serve: a browser
// always sends Origin on a WebSocket upgrade, so a page from another site (or
// a DNS-rebinding name) is refused before any MQTT is read. The security work
// (issue 15) owns the full policy; this is the interface and the rule the
// monitor's bridge applies: the page's own origin (scheme + the Host it was
// asked for), plus origins an operator lists (a reverse proxy's address).
import type { IncomingMessage } from 'node:http';

/** null = allowed; otherwise why not (logged, and the upgrade answered 403). */
export type OriginCheck = (req: IncomingMessage) => string | null;

export function sameOrigin(allowed: readonly string[] = []): OriginCheck {
  const extra = new Set(allowed.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  return (req) => {
    const origin = req.headers.origin?.toLowerCase();
    const host = req.headers.host?.toLowerCase();
    if (!origin) return 'no Origin header (only the monitor page may connect here)';
    if (extra.has(origin)) return null;
    if (host && (origin === `http://${host}` || origin === `https://${host}`)) return null;
    return `origin ${origin} is not this page's (${host ?? 'no Host'})`;
  };
}
