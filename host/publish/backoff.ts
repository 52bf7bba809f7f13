// Capped exponential backoff for reconnects, with an injectable timer so tests
// drive it with fake time (MQTT.js does the same with get-timer.ts).

export interface Timer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimer: Timer = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface BackoffOptions {
  /** first delay, ms */
  initialMs: number;
  /** growth per attempt */
  factor: number;
  /** the cap: the broker's return is noticed at most this long (plus jitter) after it happens */
  maxMs: number;
  /** +- fraction of random spread, so many boxes do not reconnect in lockstep */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, factor: 2, maxMs: 1000, jitter: 0.2 };

export class Backoff {
  #attempt = 0;
  #handle: unknown = null;

  constructor(
    readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly timer: Timer = realTimer,
    private readonly random: () => number = Math.random,
  ) {
    if (!(options.initialMs > 0) || !(options.factor >= 1) || !(options.maxMs >= options.initialMs) || !(options.jitter >= 0 && options.jitter < 1)) {
      throw new RangeError(`bad backoff options ${JSON.stringify(options)}`);
    }
  }

  /** Attempts scheduled since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  get pending(): boolean {
    return this.#handle !== null;
  }

  /** Delay of the next attempt, without jitter. */
  nominalDelay(attempt = this.#attempt): number {
    return Math.min(this.options.maxMs, this.options.initialMs * this.options.factor ** attempt);
  }

  /** Schedule fn after the next delay (no-op if one is already pending). Returns the delay. */
  schedule(fn: () => void): number {
    if (this.#handle !== null) return -1;
    const spread = 1 + this.options.jitter * (2 * this.random() - 1);
    const delay = Math.round(this.nominalDelay() * spread);
    this.#attempt++;
    this.#handle = this.timer.set(() => {
      this.#handle = null;
      fn();
    }, delay);
    return delay;
  }

  /** After a success: the next failure starts from the initial delay again. */
  reset(): void {
    this.#attempt = 0;
  }

  cancel(): void {
    if (this.#handle !== null) this.timer.clear(this.#handle);
    this.#handle = null;
  }
}
