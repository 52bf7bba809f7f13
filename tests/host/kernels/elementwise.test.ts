// Max-pool, upsample, requantizing copy (concat), ADD, LUT (sigmoid), gate multiply,
// affine and the chip's DMA box copy: every WASM build against the TypeScript reference,
// byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelSet } from '../../../host/kernels/kernel-set.js';
import { quantizeMultiplier, quantizeAddParams, sigmoidLut } from '../../../models/quant-math.js';
import { Rng } from './rng.js';
import { Layout, load, read, kernelSets, firstDiff, randomBox } from './harness.js';

const { reference, wasm } = kernelSets();

/** Run `op` on the reference and each WASM set; `op` lays out its buffers and returns [outPtr, outBytes, channels]. */
function same(label: string, op: (ks: KernelSet) => [number, number, number]): Uint8Array {
  const run = (ks: KernelSet) => { const [ptr, n] = op(ks); return read(ks, ptr, n); };
  const want = run(reference);
  for (const ks of wasm) {
    const got = run(ks);
    const channels = op(ks)[2];
    assert.equal(firstDiff(want, got, channels), null, `${ks.name} ${label}`);
  }
  return want;
}

const rq = (real: number) => quantizeMultiplier(real);

test('maxpool2x2 and upsample2x: odd sizes, 1 to 200 channels', () => {
  const rng = new Rng(21);
  for (const [h, w, c] of [[2, 2, 1], [5, 7, 3], [8, 6, 16], [3, 9, 33], [4, 4, 200], [7, 1, 5], [1, 6, 2]]) {
    const input = rng.int8(h * w * c);
    const pooled = same(`maxpool ${h}x${w}x${c}`, (ks) => {
      const L = new Layout(); const i = L.put(input); const o = L.space((h >> 1) * (w >> 1) * c + 8); load(ks, L);
      ks.maxpool2x2(i, h, w, c, o);
      return [o, (h >> 1) * (w >> 1) * c + 8, c];
    });
    if (h >= 2 && w >= 2) assert.equal((pooled[0] << 24) >> 24, Math.max(input[0], input[c], input[w * c], input[w * c + c]));
    same(`upsample ${h}x${w}x${c}`, (ks) => {
      const L = new Layout(); const i = L.put(input); const o = L.space(4 * h * w * c + 8); load(ks, L);
      ks.upsample2x(i, h, w, c, o);
      return [o, 4 * h * w * c + 8, c];
    });
  }
});

test('requantCopy: identity copy, rescaling, strided output slices', () => {
  const rng = new Rng(22);
  for (const [pixels, c, extra] of [[1, 1, 0], [37, 8, 8], [50, 32, 16], [13, 17, 0], [9, 64, 3], [100, 3, 5]]) {
    const input = rng.int8(pixels * c);
    // the 32-bit path's edges: shift 14 and -15 (t = 17 and 46) take it, 15 and -16 do not
    for (const [real, inZp, outZp] of [[1, 5, 5], [1, 5, -7], [0.37, -128, 127], [3.9, 100, -100], [1e-9, 0, 0], [0.5, 3, 3], [200, 0, 0],
      [0.75 * 2 ** 14, 1, -3], [0.75 * 2 ** 15, -2, 0], [0.99 * 2 ** -15, -128, 1], [0.75 * 2 ** -16, 127, 0], [0.9999, -128, -128]]) {
      const q = rq(real);
      const stride = c + extra;
      same(`requantCopy ${pixels}x${c}/${stride} x${real} zp ${inZp}->${outZp}`, (ks) => {
        const L = new Layout(); const i = L.put(input); const o = L.space(pixels * stride); load(ks, L);
        ks.requantCopy(i, pixels, c, inZp, q.multiplier, q.shift, outZp, o, stride);
        return [o, pixels * stride, stride];
      });
    }
  }
});

test('add: TFLite parameters over scale ratios, zero points and saturation', () => {
  const rng = new Rng(23);
  for (const n of [1, 15, 16, 17, 100, 1000]) {
    for (const [sa, sb, so] of [[0.02, 0.01, 0.04], [0.01, 0.02, 0.015], [1, 1e-3, 0.5], [0.05, 0.05, 1e-3], [0.1, 0.1, 100]]) {
      const p = quantizeAddParams(sa, sb, so);
      const a = rng.int8(n), b = rng.int8(n);
      const aZp = rng.int(-128, 127), bZp = rng.int(-128, 127), outZp = rng.int(-128, 127);
      const relu = rng.float() < 0.5;
      same(`add n=${n} scales ${sa},${sb}->${so}`, (ks) => {
        const L = new Layout(); const ap = L.put(a), bp = L.put(b); const o = L.space(n); load(ks, L);
        ks.add(ap, bp, n, aZp, bZp, p.leftShift, p.inputA.multiplier, p.inputA.shift, p.inputB.multiplier, p.inputB.shift,
          p.output.multiplier, p.output.shift, outZp, relu ? outZp : -128, 127, o);
        return [o, n, 1];
      });
    }
  }
});

test('lut: the sigmoid table over every int8 input', () => {
  const input = new Int8Array(300).map((_, i) => (i % 256) - 128);
  for (const [scale, zp] of [[0.1, 3], [1e-3, -128], [2, 127]]) {
    const table = sigmoidLut(scale, zp);
    const out = same(`lut ${scale} ${zp}`, (ks) => {
      const L = new Layout(); const i = L.put(input); const t = L.put(table); const o = L.space(300); load(ks, L);
      ks.lut(i, 300, t, o);
      return [o, 300, 1];
    });
    for (let i = 0; i < 300; i++) assert.equal((out[i] << 24) >> 24, table[input[i] + 128]);
  }
});

test('gateMul: odd heights and widths, gate upsampled on the fly', () => {
  const rng = new Rng(24);
  for (const [h, w, c] of [[1, 1, 1], [2, 2, 16], [5, 7, 3], [6, 9, 32], [7, 3, 17], [4, 4, 64]]) {
    const gate = rng.int8(((h + 1) >> 1) * ((w + 1) >> 1));
    const skip = rng.int8(h * w * c);
    for (const [real, skipZp, outZp] of [[1 / 256, 0, 0], [0.003, -128, 17], [0.5, 127, -128], [1e-7, 5, 5], [40, 0, 0]]) {
      const q = rq(real);
      same(`gateMul ${h}x${w}x${c} x${real}`, (ks) => {
        const L = new Layout(); const a = L.put(gate), s = L.put(skip); const o = L.space(h * w * c); load(ks, L);
        ks.gateMul(a, s, h, w, c, skipZp, q.multiplier, q.shift, outZp, -128, 127, o);
        return [o, h * w * c, c];
      });
    }
  }
});

test('affine: per-channel weights, bias and requantization', () => {
  const rng = new Rng(25);
  // log2 multiplier ranges: typical, and up to 2^12 (shift > 0, per-lane different shifts)
  for (const [pixels, c, lo, hi] of [[1, 1, -12, 0], [30, 8, -12, 0], [17, 32, -12, 0], [5, 255, -12, 0], [64, 3, -12, 0], [40, 16, -20, 12], [9, 12, -31, 20]]) {
    const input = rng.int8(pixels * c);
    const w = rng.int8(c, -127, 127);
    const bias = new Int32Array(c).map(() => rng.int(-5000, 5000));
    const mult = new Int32Array(c), shift = new Int32Array(c);
    for (let ch = 0; ch < c; ch++) { const q = rq(2 ** (lo + (hi - lo) * rng.float())); mult[ch] = q.multiplier; shift[ch] = q.shift; }
    const inZp = rng.int(-128, 127), outZp = rng.int(-128, 127);
    same(`affine ${pixels}x${c}`, (ks) => {
      const L = new Layout(); const i = L.put(input), wp = L.put(w), bp = L.put(bias), mp = L.put(mult), sp = L.put(shift);
      const o = L.space(pixels * c); load(ks, L);
      ks.affine(i, pixels, c, inZp, wp, bp, mp, sp, outZp, -128, 127, o);
      return [o, pixels * c, c];
    });
  }
});

test('copyBox: strided boxes, 1-byte runs, runs overlapping their destination or each other', () => {
  const rng = new Rng(26);
  const bytes = 1024;
  for (let k = 0; k < 300; k++) {
    const memory = rng.int8(bytes);
    const box = randomBox(rng, bytes);
    const out = same(`copyBox ${box.join(',')}`, (ks) => {
      const L = new Layout(); const at = L.put(memory); load(ks, L);
      const [src, dst, ...rest] = box;
      ks.copyBox(at + src, at + dst, ...rest);
      return [at, bytes, 1];
    });
    // the last run holds its source's bytes as the runs before it left them; untouched bytes stay
    const [src, dst, n1, s1, d1, n2, s2, d2, len] = box;
    const written = new Set<number>();
    for (let i = 0; i < n1; i++) for (let j = 0; j < n2; j++) for (let b = 0; b < len; b++) written.add(dst + i * d1 + j * d2 + b);
    for (let b = 0; b < bytes; b++) if (!written.has(b) && ((out[b] << 24) >> 24) !== memory[b]) assert.fail(`copyBox ${box.join(',')} wrote byte ${b} outside its runs`);
    if (src + (n1 - 1) * s1 + (n2 - 1) * s2 + len <= dst || dst + (n1 - 1) * d1 + (n2 - 1) * d2 + len <= src) {
      // spans apart: every run is a plain copy of the source as it was
      for (let b = 0; b < len; b++) assert.equal((out[dst + (n1 - 1) * d1 + (n2 - 1) * d2 + b] << 24) >> 24, memory[src + (n1 - 1) * s1 + (n2 - 1) * s2 + b]);
    }
  }
});
