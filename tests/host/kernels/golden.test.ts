// Golden vectors: committed int8 cases (golden/*.json, made by golden/generate.ts with
// exact BigInt arithmetic) and a float case quantized here; every kernel set must
// reproduce them exactly (int8) or to within the output rounding (float).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import type { KernelSet } from '../../../host/kernels/kernel-set.js';
import { quantizeMultiplier } from '../../../models/quant-math.js';
import { Layout, load, read, kernelSets, packedWeightBytes } from './harness.js';

const { reference, wasm } = kernelSets();
const sets = [reference, ...wasm];
const dir = new URL('./golden/', import.meta.url);
const golden = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
const i8 = (xs: number[]) => Int8Array.from(xs);
const i32 = (xs: number[]) => Int32Array.from(xs);
const SCRATCH = 1 << 16;

function run(ks: KernelSet, g: any): Int8Array {
  const L = new Layout();
  switch (g.op) {
    case 'conv3x3': {
      const inPtr = L.put(i8(g.input)), wPtr = L.weights(packedWeightBytes(ks, 3, g.cin, g.cout));
      const b = L.put(i32(g.bias)), m = L.put(i32(g.multiplier)), s = L.put(i32(g.shift));
      const out = L.space(g.expected.length), scratch = L.space(SCRATCH);
      load(ks, L);
      ks.packConvWeights(3, g.cin, g.cout, i8(g.weights), wPtr);
      ks.conv3x3(inPtr, g.inH, g.inW, g.cin, g.inZp, out, g.outH, g.outW, g.cout, g.cout, g.stride, g.pads[0], g.pads[1],
        wPtr, b, m, s, g.outZp, g.actMin, g.actMax, scratch, SCRATCH);
      return new Int8Array(read(ks, out, g.expected.length).buffer);
    }
    case 'add': {
      const a = L.put(i8(g.a)), b = L.put(i8(g.b)), out = L.space(g.n);
      load(ks, L);
      ks.add(a, b, g.n, g.aZp, g.bZp, g.leftShift, g.inputA.multiplier, g.inputA.shift, g.inputB.multiplier, g.inputB.shift,
        g.output.multiplier, g.output.shift, g.outZp, g.actMin, g.actMax, out);
      return new Int8Array(read(ks, out, g.n).buffer);
    }
    case 'gateMul': {
      const a = L.put(i8(g.gate)), s = L.put(i8(g.skip)), out = L.space(g.expected.length);
      load(ks, L);
      ks.gateMul(a, s, g.h, g.w, g.c, g.skipZp, g.multiplier, g.shift, g.outZp, g.actMin, g.actMax, out);
      return new Int8Array(read(ks, out, g.expected.length).buffer);
    }
    default: throw new Error(`unknown golden op ${g.op}`);
  }
}

test('golden int8 vectors reproduce exactly on every kernel set', () => {
  assert.ok(golden.length >= 4, 'golden vectors present');
  for (const g of golden) {
    assert.ok(new Set(g.expected).size > 3, `${g.name}: golden output is not degenerate`);
    for (const ks of sets) assert.deepEqual([...run(ks, g)], g.expected, `${ks.name} ${g.name}`);
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
    const inPtr = L.put(i8(qIn)), wPtr = L.weights(packedWeightBytes(ks, 3, 1, 1));
    const b = L.put(i32([0])), m = L.put(i32([multiplier])), s = L.put(i32([shift])), out = L.space(9), scratch = L.space(SCRATCH);
    load(ks, L);
    ks.packConvWeights(3, 1, 1, i8(qW), wPtr);
    ks.conv3x3(inPtr, 3, 3, 1, inZp, out, 3, 3, 1, 1, 1, 1, 1, wPtr, b, m, s, outZp, -128, 127, scratch, SCRATCH);
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
