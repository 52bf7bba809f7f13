// Capture-to-display latency across two machines' clocks.
//
// Each frame carries the device's capture and publish times (device wall clock).
// The browser knows when a frame arrived and when it was drawn (browser wall
// clock). The two clocks may differ by seconds, so `display - capture` alone can
// be wildly wrong (even negative). We estimate the offset (browser - device) as
// the MINIMUM of `receive - publish` over a sliding window: that difference is
// offset + transit delay, and transit >= 0, so its minimum over many messages is
// offset + the fastest transit seen. Using it makes the reported latency
//   (publish - capture)                    device clock only: exact
// + (receive - publish - offset)           jitter above the fastest transit
// + (display - receive)                    browser clock only: exact
// i.e. honest up to the fastest one-way transit (well under a millisecond on the
// same machine, a few ms on a LAN), which it leaves out: the badge UNDER-states
// by at most that. A window (10 s by default) lets the estimate follow clock
// drift and NTP steps; the minimum is kept with a monotonic deque (O(1) amortised).

export interface LatencySample {
  /** capture -> display, ms, with the clock offset removed */
  latencyMs: number;
  /** current offset estimate (browser - device), ms */
  offsetMs: number;
}

export class ClockOffset {
  readonly #windowMs: number;
  /** (time received, receive - publish), increasing in the second field */
  readonly #deque: { at: number; diff: number }[] = [];

  constructor(windowMs = 10_000) {
    this.#windowMs = windowMs;
  }

  /** Record one message: its publish time (device clock) and receive time (browser clock). */
  observe(publishTime: number, receiveTime: number): void {
    const diff = receiveTime - publishTime;
    const d = this.#deque;
    while (d.length && d[d.length - 1].diff >= diff) d.pop();
    d.push({ at: receiveTime, diff });
    while (d.length > 1 && d[0].at < receiveTime - this.#windowMs) d.shift();
  }

  /** browser clock - device clock (ms), or null before any message */
  get offsetMs(): number | null {
    return this.#deque.length ? this.#deque[0].diff : null;
  }

  /** Capture-to-display latency of a frame captured at `captureTime` (device) and drawn at `displayTime` (browser). */
  latency(captureTime: number, displayTime: number): LatencySample | null {
    const offset = this.offsetMs;
    if (offset === null) return null;
    return { latencyMs: displayTime - offset - captureTime, offsetMs: offset };
  }
}

/** Median of the most recent values (for a steady badge). */
export class RecentMedian {
  readonly #values: number[] = [];
  constructor(readonly size = 30) {}
  push(v: number): void {
    this.#values.push(v);
    if (this.#values.length > this.size) this.#values.shift();
  }
  get value(): number | null {
    if (!this.#values.length) return null;
    const s = [...this.#values].sort((a, b) => a - b);
    return s[s.length >> 1];
  }
}
