// Slowing password guessing at sign-in (embedded broker, the monitor's bridge).
// Attempts are keyed by (username, address, origin): every page on the box's
// machine connects from 127.0.0.1, so the address alone would let a guessing
// page lock the real operator out; the origin tells the operator's own page
// (or a program, which sends none) from another site's. Per key, attempts run
// one after another and each failure past the first few makes the next wait
// longer (doubling, capped), so a key yields at most one guess per maxDelayMs;
// attempts beyond a small queue are refused without checking the password.
// A burst of failures is logged twice: at its first failure and when it ends
// (a success, or quietMs without attempts) with its count.
import { setTimeout as sleep } from 'node:timers/promises';

export interface SignInKey {
  username: string;
  /** the client's IP address */
  address: string;
  /** the Origin of a WebSocket client; '' for a client that sent none (TCP, programs) */
  origin: string;
}

export interface SignInLimiterOptions {
  /** failures before any delay */
  freeFailures?: number;
  /** first delay after the free failures, doubled per failure */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** attempts that may wait per key; more are refused at once */
  maxWaiting?: number;
  /** a key without attempts for this long is forgotten (and its burst logged) */
  quietMs?: number;
  /** keys remembered at most (the oldest are dropped first) */
  maxKeys?: number;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

interface Entry {
  key: SignInKey;
  failures: number;
  /** no attempt of this key is checked before this time (ms, Date.now) */
  nextAt: number;
  waiting: number;
  firstFailureAt: number;
  lastAt: number;
  refusedUnchecked: number;
  /** attempts of this key run one after another */
  chain: Promise<unknown>;
}

export const DEFAULT_SIGN_IN_LIMITS: Required<Omit<SignInLimiterOptions, 'log'>> = {
  freeFailures: 3,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxWaiting: 4,
  quietMs: 60_000,
  maxKeys: 10_000,
};

export class SignInLimiter {
  readonly #o: Required<Omit<SignInLimiterOptions, 'log'>>;
  readonly #log: (msg: string, fields: Record<string, unknown>) => void;
  readonly #entries = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(opts: SignInLimiterOptions = {}) {
    const { log, ...limits } = opts;
    this.#o = { ...DEFAULT_SIGN_IN_LIMITS, ...limits };
    this.#log = log ?? (() => {});
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(100, this.#o.quietMs / 4));
    this.#sweeper.unref();
  }

  /** The delay a key waits after `failures` failures. */
  delayAfter(failures: number): number {
    const over = failures - this.#o.freeFailures;
    return over <= 0 ? 0 : Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** (over - 1));
  }

  /**
   * Check a sign-in: waits for the key's turn, runs `verify` and records the
   * outcome. Resolves false without calling `verify` when the key already has
   * maxWaiting attempts waiting.
   */
  attempt(key: SignInKey, verify: () => Promise<boolean>): Promise<boolean> {
    const e = this.#entry(key);
    e.lastAt = Date.now();
    if (e.waiting >= this.#o.maxWaiting) {
      e.refusedUnchecked++;
      return Promise.resolve(false);
    }
    e.waiting++;
    const run = async (): Promise<boolean> => {
      const wait = e.nextAt - Date.now();
      if (wait > 0) await sleep(wait);
      let ok = false;
      try {
        ok = await verify();
      } finally {
        e.waiting--;
        e.lastAt = Date.now();
        if (ok) this.#succeeded(e);
        else this.#failed(e);
      }
      return ok;
    };
    const p = e.chain.then(run, run);
    e.chain = p.catch(() => {});
    return p;
  }

  /** Keys with failures on record (tests, stats). */
  get tracked(): number {
    return this.#entries.size;
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const e of this.#entries.values()) this.#endBurst(e, 'closed');
    this.#entries.clear();
  }

  #entry(key: SignInKey): Entry {
    const id = JSON.stringify([key.username, key.address, key.origin]);
    let e = this.#entries.get(id);
    if (!e) {
      if (this.#entries.size >= this.#o.maxKeys) {
        // a flood of distinct keys: forget the oldest rather than grow
        const oldest = this.#entries.keys().next().value as string;
        this.#entries.delete(oldest);
      }
      e = { key, failures: 0, nextAt: 0, waiting: 0, firstFailureAt: 0, lastAt: Date.now(), refusedUnchecked: 0, chain: Promise.resolve() };
      this.#entries.set(id, e);
    }
    return e;
  }

  #failed(e: Entry): void {
    e.failures++;
    if (e.failures === 1) {
      e.firstFailureAt = Date.now();
      this.#log('sign-in failed; further failures from the same client are counted, not logged, until the burst ends', { ...e.key });
    }
    e.nextAt = Date.now() + this.delayAfter(e.failures);
  }

  #succeeded(e: Entry): void {
    this.#endBurst(e, 'signed in');
    e.failures = 0;
    e.nextAt = 0;
    e.refusedUnchecked = 0;
  }

  #endBurst(e: Entry, how: string): void {
    if (e.failures > 1 || e.refusedUnchecked > 0) {
      this.#log('sign-in failures ended', { ...e.key, failures: e.failures, refusedUnchecked: e.refusedUnchecked, seconds: Math.round((e.lastAt - e.firstFailureAt) / 100) / 10, how });
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, e] of this.#entries) {
      if (e.waiting === 0 && now - e.lastAt >= this.#o.quietMs) {
        this.#endBurst(e, 'quiet');
        this.#entries.delete(id);
      }
    }
  }
}
