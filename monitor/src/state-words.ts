// A device's state in words an operator understands, instead of the reason
// codes of docs/mqtt.md: "falling behind: showing 12 of 30 frames per second",
// not "degraded (falling-behind)". Pure (tests/monitor/units.test.ts).
import type { DeviceStats, DeviceStatus } from './device-status.js';

const STATE_WORDS: Record<string, string> = {
  warming: 'starting: the first pictures warm up the model',
  live: 'running',
  degraded: 'running with a problem',
  stopped: 'stopped',
  offline: 'not reachable: its connection was lost',
  updating: 'updating its firmware; back in a moment',
  'no-image': 'holds no firmware image: waiting for an update',
};

/** One reason code in words; `stats` gives the frame rates for falling-behind. */
export function reasonWords(code: string, st: DeviceStatus | null, stats: DeviceStats | null): string {
  switch (code) {
    case 'falling-behind': {
      const fin = stats?.fps?.in;
      const fout = stats?.fps?.out;
      return typeof fin === 'number' && typeof fout === 'number' && fin > 0
        ? `falling behind: showing ${Math.round(fout)} of ${Math.round(fin)} frames per second`
        : 'falling behind: not every picture is shown';
    }
    case 'source-lost':
      return 'the camera signal is lost: reconnecting';
    case 'source-ended':
      return 'the source has played to its end: no new pictures';
    case 'engine-fallback':
      return 'running on the slower backup engine';
    default:
      return code.replace(/-/g, ' ');
  }
}

/** The device's state as a short phrase plus its reasons, each in words. */
export function deviceWords(st: DeviceStatus | null, stats: DeviceStats | null = null): { headline: string; details: string[] } {
  if (!st) return { headline: 'no status yet', details: [] };
  const details = (st.reasons ?? []).map((r) => reasonWords(r, st, stats));
  if (st.paused) details.unshift('paused by an operator');
  const headline = STATE_WORDS[st.state] ?? st.state;
  return { headline: st.state === 'degraded' && details.length ? details[0] : headline, details };
}

/** One line: "running", "running: paused by an operator", "falling behind: showing 12 of 30 frames per second". */
export function deviceLine(st: DeviceStatus | null, stats: DeviceStats | null = null): string {
  const w = deviceWords(st, stats);
  const rest = w.details.filter((d) => d !== w.headline);
  return rest.length ? `${w.headline}; ${rest.join('; ')}` : w.headline;
}
