// Deterministic PRNG for kernel tests and benchmarks (mulberry32): failures reproduce from the seed.
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  /** uniform in [0, 1) */
  float(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [lo, hi] inclusive */
  int(lo: number, hi: number): number { return lo + Math.floor(this.float() * (hi - lo + 1)); }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.float() * xs.length)]; }
  int8(n: number, lo = -128, hi = 127): Int8Array {
    const a = new Int8Array(n);
    for (let i = 0; i < n; i++) a[i] = this.int(lo, hi);
    return a;
  }
}
