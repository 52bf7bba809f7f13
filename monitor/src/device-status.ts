// What the page reads of a device's retained `status` and its `stats`
// (docs/mqtt.md), as far as it uses them, parsed defensively: a message from
// another version or another program must not break the page.

export interface DeviceStatus {
  state: string;
  online?: boolean;
  device?: string;
  since?: number;
  ts?: number;
  paused?: boolean;
  threshold?: number;
  gates?: number[];
  reasons?: string[];
  /** why the state is what it is: the engine-fallback explanation when degraded; the box's words when updating or no-image */
  reason?: string;
  model?: { name?: string; sha256?: string };
  engine?: string;
  source?: { spec?: string; kind?: string; live?: boolean; fps?: number | null };
  software?: { name?: string; version?: string };
  /** the box agent's firmware (when the box runs from a firmware image) */
  firmware?: { version?: string; slot?: string; state?: string } | null;
}

export interface DeviceStats {
  ts?: number;
  state?: string;
  fps?: { in?: number; out?: number };
  latencyMs?: { endToEnd?: { p50?: number } | null } | null;
}

function json(payload: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return null;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A status message, or null when it is not one (no string `state`). */
export function parseStatus(payload: Uint8Array): DeviceStatus | null {
  const v = json(payload);
  return isObject(v) && typeof v.state === 'string' ? (v as unknown as DeviceStatus) : null;
}

/** A stats message, or null when it is not a JSON object. */
export function parseStats(payload: Uint8Array): DeviceStats | null {
  const v = json(payload);
  return isObject(v) ? (v as DeviceStats) : null;
}

/** Any JSON object (cmd replies), or null. */
export function parseObject(payload: Uint8Array): Record<string, unknown> | null {
  const v = json(payload);
  return isObject(v) ? v : null;
}

/** "busi-lite (9f1c2a3b)", "random:F8x128 (random weights)" */
export function modelWords(st: DeviceStatus | null): string | null {
  const m = st?.model;
  if (!m?.name) return null;
  if (m.sha256 === 'random') return /random/i.test(m.name) ? m.name : `${m.name} (random weights)`;
  return m.sha256 ? `${m.name} (${m.sha256.slice(0, 8)})` : m.name;
}
