// Golden vectors: committed int8 cases (golden/*.json, made by golden/generate.ts with
// exact BigInt arithmetic) and a float case quantized here; every kernel set must
// reproduce them exactly (int8) or to within the output rounding (float).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelSet } from '../../../host/kernels/kernel-set.js';
import { quantizeMultiplier } from '../../../models/quant-math.js';
import { Layout, load, read, kernelSets, packedWeightBytes } from './harness.js';
import { goldenCases, runGolden } from './golden/cases.js';

const { reference, wasm } = kernelSets();
const sets = [reference, ...wasm];
const golden = goldenCases;
const i8 = (xs: number[]) => Int8Array.from(xs);
const i32 = (xs: number[]) => Int32Array.from(xs);
const SCRATCH = 1 << 16;

test('golden int8 vectors reproduce exactly on every kernel set', () => {
  assert.ok(golden.length >= 4, 'golden vectors present');
  for (const g of golden) {
    assert.ok(new Set(g.expected).size > 3, `${g.name}: golden output is not degenerate`);
    for (const ks of sets) assert.deepEqual([...runGolden(ks, g)], g.expected, `${ks.name} ${g.name}`);
  }
});

test('float 3x3 conv quantized by hand: int8 result is the float result of the quantized values, rounded', () => {
  // 3x3x1 image, one 3x3 filter (a Laplacian-like kernel), PyTorch padding, ReLU off
  const img = [0.1, 0.5, 0.9, 0.2, 0.6, 1.0, 0.3, 0.7, 0.4];
  const ker = [0.25, -0.5, 0.25, -0.5, 1.0, -0.5, 0.25, -0.5, 0.25];
  const inScale = 1 / 255, inZp = -128; // the model input convention
  const wScale = 1 / 127; // symmetric: max |w| = 1.0 -> 127
  const outScale = 0.01, outZp = 5;
  const qIn = img.map((v) => Math.round(v / inScale) + inZp);
  const qW = ker.map((v) => Math.round(v / wScale));
  const { multiplier, shift } = quantizeMultiplier((inScale * wScale) / outScale);
  for (const ks of sets) {
    const L = new Layout();
    const inPtr = L.put(i8(qIn)), wPtr = L.weights(packedWeightBytes(ks, 3, 1, 1, 1));
    const b = L.put(i32([0])), m = L.put(i32([multiplier])), s = L.put(i32([shift])), out = L.space(9), scratch = L.space(SCRATCH);
    load(ks, L);
    ks.packConvWeights(3, 1, 1, i8(qW), wPtr, 1);
    ks.conv3x3(inPtr, 3, 3, 1, inZp, out, 3, 3, 1, 1, 1, 1, 1, wPtr, b, m, s, outZp, -128, 127, 0, scratch, SCRATCH);
    const got = new Int8Array(read(ks, out, 9).buffer);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) {
      let f = 0;
      for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
        const iy = y + ky - 1, ix = x + kx - 1;
        // float arithmetic on the dequantized operands: only the output rounding may differ
        if (iy >= 0 && iy < 3 && ix >= 0 && ix < 3) f += (qIn[iy * 3 + ix] - inZp) * inScale * qW[ky * 3 + kx] * wScale;
      }
      const deq = (got[y * 3 + x] - outZp) * outScale;
      assert.ok(Math.abs(deq - f) <= outScale * 0.5 + 1e-9, `${ks.name} (${y},${x}): int8 ${deq.toFixed(4)} vs float ${f.toFixed(4)}`);
    }
  }
});
