// Growing delays for failed sign-ins, keyed on what an attacker cannot vary
// cheaply together (username + address + origin): after the n-th failure the
// next attempt waits baseMs x 2^(n-1), at most maxMs; a success clears the key,
// and a key left alone for forgetMs is forgotten. The security work (issue 15)
// owns the product's limiter; this is the interface the monitor's bridge calls
// and a small implementation of that rule.

export interface SignInLimiter {
  /** ms to hold this attempt back before it reaches the broker */
  delayMs(key: string, now: number): number;
  failed(key: string, now: number): void;
  succeeded(key: string): void;
}

export interface DelayOptions {
  baseMs: number;
  maxMs: number;
  forgetMs: number;
}

export const DEFAULT_DELAYS: DelayOptions = { baseMs: 500, maxMs: 30_000, forgetMs: 15 * 60_000 };

export class GrowingDelayLimiter implements SignInLimiter {
  readonly #failures = new Map<string, { n: number; at: number }>();
  constructor(readonly opts: DelayOptions = DEFAULT_DELAYS) {}

  delayMs(key: string, now: number): number {
    const f = this.#failures.get(key);
    if (!f) return 0;
    if (now - f.at > this.opts.forgetMs) {
      this.#failures.delete(key);
      return 0;
    }
    return Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** (f.n - 1));
  }

  failed(key: string, now: number): void {
    const f = this.#failures.get(key);
    this.#failures.set(key, { n: (f?.n ?? 0) + 1, at: now });
    if (this.#failures.size > 10_000) this.#failures.delete(this.#failures.keys().next().value!); // bounded memory
  }

  succeeded(key: string): void {
    this.#failures.delete(key);
  }
}

/** The key of one sign-in attempt. */
export function signInKey(username: string, address: string | undefined, origin: string | undefined): string {
  return JSON.stringify([username, address ?? '', origin ?? '']);
}
