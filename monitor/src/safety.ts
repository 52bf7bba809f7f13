// The monitor's safety state, as a pure function of what it has seen, so that it
// can be tested without a browser. The operator must never mistake an old picture
// for a live one:
//   connecting  no broker connection yet (first attempt), or connected and waiting for a first frame
//   live        frames arrive (the newest is at most the stale threshold old, freshness.ts)
//   stale       connected, but no frame for longer than that (source stopped, paused, pipeline stuck)
//   offline     the device said it is gone (Last Will `offline`, or `stopped`), holds no firmware image
//               (`no-image`), or the broker is unreachable
//   updating    the box is restarting its pipeline (a firmware update, a revert, a restart after a crash):
//               no frames are expected until the new pipeline publishes again. The old pipeline's
//               `stopped` and the new one's `warming` belong to the restart: the page stays `updating`
//               through them until a frame arrives (or updateGraceMs passes without one: then stale)
// Besides the state: `frozen` = frames keep arriving but their picture bytes have
// been identical for more than frozenMs (a stuck capture card repeats its last frame).
// This is the raw state; freshness.ts decides when it reaches the screen.
import { FramePeriod, staleAfterMs, type SafetyState } from './freshness.js';

export interface SafetyOptions {
  /** no frame for longer than this -> stale (ms); null = from the source's frame period (freshness.ts) */
  staleMs: number | null;
  /** identical pictures for longer than this -> frozen (ms) */
  frozenMs: number;
  /** a first connection attempt that has not succeeded after this long -> offline (ms) */
  connectTimeoutMs: number;
  /** how long `stopped` or `warming` after `updating` still count as the restart (ms) */
  updateGraceMs: number;
}

export const DEFAULT_SAFETY: SafetyOptions = { staleMs: null, frozenMs: 2000, connectTimeoutMs: 5000, updateGraceMs: 15_000 };

export interface SafetyView {
  state: SafetyState;
  frozen: boolean;
  /** one line for the banner */
  reason: string;
  /** when this state began (page wall-clock ms): for STALE, the last frame plus the threshold */
  since: number;
}

export class SafetyMonitor {
  readonly opts: SafetyOptions;
  #startedAt: number;
  #connected = false;
  #everConnected = false;
  #connectedAt = 0;
  #lostAt = 0;
  #lastFrameAt: number | null = null;
  #hash: number | null = null;
  #sameSince = 0;
  /** last device status: state and when it arrived */
  #deviceState: string | null = null;
  #deviceStateAt = 0;
  #deviceReason = '';
  /** the last `updating` status, while no frame has come after it */
  #updating: { at: number; reason: string } | null = null;
  readonly period = new FramePeriod();

  constructor(now: number, opts: Partial<SafetyOptions> = {}) {
    this.opts = { ...DEFAULT_SAFETY, ...opts };
    this.#startedAt = now;
  }

  connected(now: number): void {
    this.#connected = true;
    this.#everConnected = true;
    this.#connectedAt = now;
  }

  disconnected(now: number): void {
    if (this.#connected) this.#lostAt = now;
    this.#connected = false;
  }

  /** A status message for the shown device (`state` and `reason` fields of docs/mqtt.md). */
  status(state: string, now: number, reason = ''): void {
    if (state === 'updating') this.#updating = { at: now, reason };
    else if (state !== 'stopped' && state !== 'warming') this.#updating = null;
    this.#deviceState = state;
    this.#deviceReason = reason;
    this.#deviceStateAt = now;
  }

  /** A frame arrived; `hash` is a hash of its picture bytes. */
  frame(hash: number, now: number): void {
    this.#updating = null;
    if (hash !== this.#hash) {
      this.#hash = hash;
      this.#sameSince = now;
    }
    this.#lastFrameAt = now;
    this.period.arrived(now);
  }

  /** Forget frames (another device was selected). */
  resetFrames(): void {
    this.#lastFrameAt = null;
    this.#hash = null;
    this.#deviceState = null;
    this.#updating = null;
    this.period.reset();
  }

  /** The stale threshold in force (ms). */
  get staleMs(): number {
    return this.opts.staleMs ?? staleAfterMs(this.period.ms);
  }

  get lastFrameAt(): number | null {
    return this.#lastFrameAt;
  }

  view(now: number): SafetyView {
    const { frozenMs, connectTimeoutMs } = this.opts;
    const staleMs = this.staleMs;
    if (!this.#connected) {
      if (!this.#everConnected) {
        return now - this.#startedAt > connectTimeoutMs
          ? { state: 'offline', frozen: false, reason: 'cannot reach the broker; retrying', since: this.#startedAt + connectTimeoutMs }
          : { state: 'connecting', frozen: false, reason: 'connecting to the broker', since: this.#startedAt };
      }
      return { state: 'offline', frozen: false, reason: `lost the connection to the broker ${secs(now - this.#lostAt)} ago; retrying`, since: this.#lostAt };
    }
    // a frame newer than the status proves the device is up (e.g. a retained `offline` from an earlier run)
    const u = this.#updating;
    if (u && (this.#deviceState === 'updating' || now - this.#deviceStateAt <= this.opts.updateGraceMs)) {
      const step = this.#deviceState === 'updating' ? u.reason || 'the box is restarting its pipeline' : `${this.#deviceState === 'warming' ? 'the new pipeline is starting' : 'the old pipeline has stopped'} (${u.reason || 'restart'})`;
      return { state: 'updating', frozen: false, reason: step, since: u.at };
    }
    const gone = (this.#deviceState === 'offline' || this.#deviceState === 'stopped' || this.#deviceState === 'no-image') && (this.#lastFrameAt === null || this.#deviceStateAt >= this.#lastFrameAt);
    if (gone) {
      const why =
        this.#deviceState === 'offline' ? 'the box is not reachable (its connection was lost)'
        : this.#deviceState === 'stopped' ? 'the box was stopped'
        : `the box holds no firmware image${this.#deviceReason ? `: ${this.#deviceReason}` : ''}`;
      return { state: 'offline', frozen: false, reason: why, since: this.#deviceStateAt };
    }
    if (this.#lastFrameAt === null) {
      return now - this.#connectedAt > staleMs
        ? { state: 'stale', frozen: false, reason: `no picture received for ${secs(now - this.#connectedAt)}`, since: this.#connectedAt + staleMs }
        : { state: 'connecting', frozen: false, reason: 'waiting for the first picture', since: this.#connectedAt };
    }
    const age = now - this.#lastFrameAt;
    if (age > staleMs) return { state: 'stale', frozen: false, reason: `no new picture for ${secs(age)}`, since: this.#lastFrameAt + staleMs };
    const frozen = this.#lastFrameAt - this.#sameSince > frozenMs;
    return { state: 'live', frozen, reason: frozen ? `identical pictures for ${secs(this.#lastFrameAt - this.#sameSince)}` : '', since: this.#lastFrameAt };
  }
}

function secs(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** FNV-1a (32 bit) over bytes: cheap enough for every frame (16 KiB at 128 x 128). */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
