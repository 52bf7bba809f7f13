// Deterministic PRNG for kernel tests and benchmarks (mulberry32, models/random-model.ts): failures reproduce from the seed.
import { prng } from '../../../models/random-model.js';
export class Rng {
  /** uniform in [0, 1) */
  readonly float: () => number;
  constructor(seed: number) { this.float = prng(seed); }
  /** integer in [lo, hi] inclusive */
  int(lo: number, hi: number): number { return lo + Math.floor(this.float() * (hi - lo + 1)); }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.float() * xs.length)]; }
  int8(n: number, lo = -128, hi = 127): Int8Array {
    const a = new Int8Array(n);
    for (let i = 0; i < n; i++) a[i] = this.int(lo, hi);
    return a;
  }
}
