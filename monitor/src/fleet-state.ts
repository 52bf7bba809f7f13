// The fleet view's model: every device ever seen on `aunet/+/status` (devices
// are never dropped: an offline box stays listed with the time it was last
// seen), what it last said, and the tile state derived from that and from the
// clock. Pure (tests/monitor/units.test.ts).
import { decodeThumbnail, type Thumbnail } from '../../contracts/thumbnail.js';
import { parseStats, parseStatus, type DeviceStats, type DeviceStatus } from './device-status.js';
import { deviceLine } from './state-words.js';

/** A box whose status says it is up but which has sent nothing for this long is shown as "no data" (stats come at ~1 Hz). */
export const NO_DATA_MS = 3500;

export type TileState = 'live' | 'paused' | 'warming' | 'degraded' | 'updating' | 'stale' | 'offline' | 'stopped';

export interface DeviceRecord {
  id: string;
  status: DeviceStatus | null;
  stats: DeviceStats | null;
  thumb: Thumbnail | null;
  /** wall-clock ms of the last message from the running box (null: not since this page opened) */
  lastSeen: number | null;
  /** page wall-clock ms of the last message that proves the box is running (stats, thumb, a live status); creation at first */
  lastData: number;
  /** thumbnails that could not be decoded */
  badThumbs: number;
}

export interface TileView {
  state: TileState;
  /** the state in words (never colour alone) */
  words: string;
}

export class FleetState {
  readonly devices = new Map<string, DeviceRecord>();

  #record(id: string, now: number): DeviceRecord {
    let r = this.devices.get(id);
    if (!r) {
      r = { id, status: null, stats: null, thumb: null, lastSeen: null, lastData: now, badThumbs: 0 };
      this.devices.set(id, r);
    }
    return r;
  }

  /** A message on aunet/<id>/<kind>; returns the record it changed, or null when it was not for the fleet. */
  message(id: string, kind: string, payload: Uint8Array, now: number): DeviceRecord | null {
    if (kind === 'status') {
      const st = parseStatus(payload);
      if (!st) return null;
      const r = this.#record(id, now);
      // a Last Will or `stopped` carries only the state: keep what the box said it runs, to name it
      const gone = st.state === 'offline' || st.state === 'stopped';
      const prev = r.status;
      r.status = gone && prev ? { ...st, model: prev.model, software: prev.software, firmware: prev.firmware, engine: prev.engine, source: prev.source } : st;
      if (!gone) r.lastSeen = r.lastData = now;
      else if (st.state === 'stopped' && typeof st.ts === 'number') r.lastSeen ??= st.ts; // its last words are dated
      return r;
    }
    // stats and thumbnails of a device whose status has not come yet still create its tile
    if (kind === 'stats') {
      const s = parseStats(payload);
      if (!s) return null;
      const r = this.#record(id, now);
      r.stats = s;
      r.lastSeen = r.lastData = now;
      return r;
    }
    if (kind === 'thumb') {
      const r = this.#record(id, now);
      r.lastSeen = r.lastData = now;
      try {
        r.thumb = decodeThumbnail(payload);
      } catch {
        r.badThumbs++;
      }
      return r;
    }
    return null;
  }

  /** Ids in a stable order (by name), so tiles do not move as states change. */
  ids(): string[] {
    return [...this.devices.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  }
}

/** A tile's state: what the box said, unless it has gone silent while claiming to run. */
export function tileView(r: DeviceRecord, now: number): TileView {
  const st = r.status;
  if (st?.state === 'offline') return { state: 'offline', words: 'offline: its connection was lost' };
  if (st?.state === 'no-image') return { state: 'offline', words: `no firmware image${st.reason ? `: ${st.reason}` : ''}` };
  if (st?.state === 'stopped') return { state: 'stopped', words: 'stopped by its operator or an update' };
  const silent = now - r.lastData;
  if (silent > NO_DATA_MS) return { state: 'stale', words: `no data for ${ago(silent)}` };
  if (st?.state === 'updating') return { state: 'updating', words: deviceLine(st, r.stats) };
  if (st?.state === 'warming' || st?.state === 'degraded') return { state: st.state, words: deviceLine(st, r.stats) };
  if (st?.paused) return { state: 'paused', words: deviceLine(st, r.stats) };
  return { state: 'live', words: st ? deviceLine(st, r.stats) : 'running (no status yet)' };
}

/** "0.4 s", "12 s", "5 min", "3 h" */
export function ago(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** Each tile state's word on its badge and in the summary. */
export const TILE_LABEL: Record<TileState, string> = { live: 'live', paused: 'paused', warming: 'starting', degraded: 'problem', updating: 'updating', stale: 'no data', offline: 'offline', stopped: 'stopped' };

/** How many tiles are in each state, in a fixed order: "2 live, 1 offline". */
export function fleetSummary(views: TileView[]): string {
  const order: TileState[] = ['offline', 'stale', 'stopped', 'degraded', 'paused', 'updating', 'warming', 'live'];
  const n = new Map<TileState, number>();
  for (const v of views) n.set(v.state, (n.get(v.state) ?? 0) + 1);
  const parts = order.filter((s) => n.get(s)).map((s) => `${n.get(s)} ${TILE_LABEL[s]}`);
  return `${views.length} device${views.length === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}
