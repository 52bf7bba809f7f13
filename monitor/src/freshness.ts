// When a picture stops being fresh, and how that reaches the screen without
// flicker (docs/monitor.md, "Freshness"). Pure, so it is tested without a browser.
//
// Threshold: STALE once no new frame has arrived for max(250 ms, 3 frame
// periods of the running source). The frame period is the nominal one (the
// source's fps in the device status), or the median interval of the last
// frames received when that is more than SLOWER x the nominal one (or there is
// no nominal rate): a box that falls behind and publishes 4 of 30 frames per
// second is not called stale between its frames, while a bursty stream (three
// frames at once, then a gap) is judged by its nominal rate, and network jitter
// around the nominal rate does not move the threshold.
// `?stale=MS` replaces the computed threshold.
//
// Display: a raw state that is not `live` reaches the screen only after it has
// held for ONSET_HOLD_MS (a frame that is 30 ms late draws no banner), and a
// banner, once shown, clears only after CLEAR_FRAMES frames in a row have
// arrived and it has been up for MIN_BANNER_MS: no banner lasts less than
// 500 ms, and one stray frame in a stopped stream does not clear it.
/** What the page says about the stream (safety.ts decides it, this file holds it steady on screen). */
export type SafetyState = 'connecting' | 'live' | 'stale' | 'offline' | 'updating';

export const MIN_STALE_MS = 250;
export const STALE_PERIODS = 3;
export const ONSET_HOLD_MS = 100;
export const MIN_BANNER_MS = 500;
export const CLEAR_FRAMES = 2;
/** frame intervals the observed period is the median of */
const PERIOD_WINDOW = 20;
/** the observed period replaces the nominal one when it is this much longer */
export const SLOWER = 1.2;

/** The frame period of the running source (ms), from its nominal fps and the arrivals seen. */
export class FramePeriod {
  #nominalMs: number | null = null;
  #last: number | null = null;
  readonly #intervals: number[] = [];

  /** The source's frame rate from the device status (null or absent: unknown, e.g. a live camera). */
  setNominalFps(fps: number | null | undefined): void {
    this.#nominalMs = typeof fps === 'number' && fps > 0 ? 1000 / fps : null;
  }

  arrived(now: number): void {
    if (this.#last !== null) {
      this.#intervals.push(now - this.#last);
      if (this.#intervals.length > PERIOD_WINDOW) this.#intervals.shift();
    }
    this.#last = now;
  }

  /** Forget the arrivals (another device, or a restart of the stream). */
  reset(): void {
    this.#last = null;
    this.#intervals.length = 0;
  }

  get observedMs(): number | null {
    if (this.#intervals.length < 3) return null;
    const s = [...this.#intervals].sort((a, b) => a - b);
    return s[s.length >> 1];
  }

  /** the nominal period, or the observed one when it is SLOWER x longer or there is no nominal one; null when neither is known */
  get ms(): number | null {
    const o = this.observedMs;
    const n = this.#nominalMs;
    return o === null ? n : n === null ? o : o > SLOWER * n ? o : n;
  }
}

/** No new frame for longer than this is STALE (ms). */
export function staleAfterMs(periodMs: number | null): number {
  return Math.max(MIN_STALE_MS, STALE_PERIODS * (periodMs ?? 0));
}

export interface BannerOptions {
  onsetHoldMs: number;
  minBannerMs: number;
  clearFrames: number;
}

export const DEFAULT_BANNER: BannerOptions = { onsetHoldMs: ONSET_HOLD_MS, minBannerMs: MIN_BANNER_MS, clearFrames: CLEAR_FRAMES };

/** The state on screen, from the raw state over time. */
export class BannerTiming {
  readonly opts: BannerOptions;
  #shown: SafetyState = 'connecting';
  /** when the current banner went up (null while live) */
  #bannerAt: number | null;
  /** frames in a row since the raw state was last not live */
  #run = 0;

  constructor(now: number, opts: Partial<BannerOptions> = {}) {
    this.opts = { ...DEFAULT_BANNER, ...opts };
    this.#bannerAt = now;
  }

  get shown(): SafetyState {
    return this.#shown;
  }

  /** when the banner on screen went up, or null when none is */
  get bannerAt(): number | null {
    return this.#bannerAt;
  }

  frame(): void {
    this.#run++;
  }

  /**
   * The state to show now, given the raw state and when it began (`rawSince`:
   * for STALE the last frame's time plus the threshold, not when a timer noticed).
   */
  update(raw: SafetyState, rawSince: number, now: number): SafetyState {
    if (raw !== 'live') this.#run = 0;
    if (this.#bannerAt === null) {
      if (raw !== 'live' && now - rawSince >= this.opts.onsetHoldMs) {
        this.#shown = raw;
        this.#bannerAt = now;
      }
      return this.#shown;
    }
    if (raw !== 'live') {
      this.#shown = raw; // from one banner to another (STALE -> OFFLINE): the banner stays up
    } else if (this.#run >= this.opts.clearFrames && now - this.#bannerAt >= this.opts.minBannerMs) {
      this.#shown = 'live';
      this.#bannerAt = null;
    }
    return this.#shown;
  }
}
