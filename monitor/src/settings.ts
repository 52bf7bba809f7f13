// Where the monitor connects and how strict its safety checks are: /config.json
// (written by the server: `aunet run` or `aunet monitor`), overridden by URL
// parameters so a bookmark can carry them:
//   ?device=ID  &stale=MS (no frame -> STALE; default from the source's frame rate, freshness.ts)
//   &frozen=MS (identical frames -> FROZEN, default 2000)
//   &broker=ws://host:port/mqtt only when config.json lists it under `brokers`: a link must not be
//   able to send the page (and the operator's password at sign-in) to a broker of someone else's.
import { DEVICE_ID } from '../../contracts/topics.js';
import { DEFAULT_SAFETY } from './safety.js';

export interface MonitorSettings {
  brokerUrl: string;
  /** whether the server has an operator account (false: the page says none is configured); null = unknown */
  operators: boolean | null;
  /** device to show; null = the first seen on aunet/+/status */
  device: string | null;
  /** null = from the source's frame period (freshness.ts) */
  staleMs: number | null;
  frozenMs: number;
  /** problems with the URL parameters, shown to the operator rather than ignored silently */
  warnings: string[];
}

interface ServerConfig {
  broker?: string | null;
  /** other brokers a ?broker= parameter may pick */
  brokers?: string[];
  device?: string | null;
  operators?: boolean | null;
}

export async function loadSettings(loc: Location = window.location): Promise<MonitorSettings> {
  let server: ServerConfig = {};
  const warnings: string[] = [];
  try {
    const r = await fetch(new URL('config.json', loc.href), { cache: 'no-store' });
    if (r.ok) server = (await r.json()) as ServerConfig;
    else warnings.push(`config.json: HTTP ${r.status}; using the page's own host`);
  } catch (e) {
    warnings.push(`config.json unreadable (${(e as Error).message}); using the page's own host`);
  }
  return resolveSettings(server, new URLSearchParams(loc.search), loc, warnings);
}

/** Pure part, for tests. */
export function resolveSettings(server: ServerConfig, q: URLSearchParams, loc: { protocol: string; host: string }, warnings: string[] = []): MonitorSettings {
  const sameHost = `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/mqtt`;
  let brokerUrl = server.broker ?? sameHost;
  const qb = q.get('broker');
  if (qb !== null) {
    if (qb === brokerUrl || (Array.isArray(server.brokers) && server.brokers.includes(qb))) brokerUrl = qb;
    else warnings.push(`broker=${qb}: not a broker this page may use (config.json); ignored`);
  }
  let device = server.device ?? null;
  const qd = q.get('device');
  if (qd !== null) {
    if (DEVICE_ID.test(qd)) device = qd;
    else warnings.push(`device=${qd}: 1 to 64 characters of A-Z a-z 0-9 _ -; ignored`);
  }
  const ms = <D extends number | null>(name: string, def: D, min: number, max: number): number | D => {
    const v = q.get(name);
    if (v === null) return def;
    const n = Number(v);
    if (Number.isFinite(n) && n >= min && n <= max) return n;
    warnings.push(`${name}=${v}: expected milliseconds in ${min}..${max}; using ${def ?? 'the default'}`);
    return def;
  };
  return {
    brokerUrl,
    operators: typeof server.operators === 'boolean' ? server.operators : null,
    device,
    staleMs: ms('stale', DEFAULT_SAFETY.staleMs, 50, 60_000),
    frozenMs: ms('frozen', DEFAULT_SAFETY.frozenMs, 100, 600_000),
    warnings,
  };
}
