// conv3x3 and conv1x1: every WASM build against the TypeScript reference on random
// tensors over many shapes, paddings, strides and quantization parameters; a single
// differing byte (output or the untouched bytes between strided pixels) fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONV3X3_SCRATCH_BYTES, type KernelSet } from '../../../host/kernels/kernel-set.js';
import { quantizeMultiplier } from '../../../models/quant-math.js';
import { WINOGRAD4_CHUNK_CIN, WINOGRAD_MAX_CIN } from '../../../host/kernels/kernel-constants.js';
import { Rng } from './rng.js';
import { Layout, load, read, kernelSets, firstDiff, packedWeightBytes } from './harness.js';
import { winogradChunk } from '../../../host/kernels/weight-packing.js';

const { reference, wasm } = kernelSets();

interface ConvCase {
  k: 1 | 3; inH: number; inW: number; cin: number; cout: number; stride: 1 | 2;
  pads: [number, number, number, number]; outPixelStride: number;
  inZp: number; outZp: number; actMin: number; actMax: number;
  /** log2 range of the real multipliers */
  scale: [number, number]; biasMax: number; inputRange?: [number, number]; weightRange?: [number, number];
  /** multipliers exact powers of two: many results end in exactly .5, testing the tie rule */
  pow2?: boolean;
  /** conv3x3's chunkCin (default: winogradChunk of the case's weights) */
  chunkCin?: number;
}

function outSize(c: ConvCase): [number, number] {
  if (c.k === 1) return [c.inH, c.inW];
  return [Math.floor((c.inH + c.pads[0] + c.pads[2] - 3) / c.stride) + 1, Math.floor((c.inW + c.pads[1] + c.pads[3] - 3) / c.stride) + 1];
}

function runConv(ks: KernelSet, c: ConvCase, seed: number, scratchBytes: number): Uint8Array {
  const rng = new Rng(seed);
  const [outH, outW] = outSize(c);
  const [lo, hi] = c.inputRange ?? [-128, 127];
  const input = rng.int8(c.inH * c.inW * c.cin, lo, hi);
  const weights = rng.int8(c.cout * c.k * c.k * c.cin, ...(c.weightRange ?? [-127, 127]));
  const bias = new Int32Array(c.cout).map(() => rng.int(-c.biasMax, c.biasMax));
  const mult = new Int32Array(c.cout), shift = new Int32Array(c.cout);
  for (let o = 0; o < c.cout; o++) {
    const e = c.scale[0] + rng.float() * (c.scale[1] - c.scale[0]);
    const q = quantizeMultiplier(2 ** (c.pow2 ? Math.round(e) : e));
    mult[o] = q.multiplier; shift[o] = q.shift;
  }
  const L = new Layout();
  const inPtr = L.put(input);
  const wPtr = L.weights(Math.max(packedWeightBytes(ks, c.k, c.cin, c.cout, c.stride), 16));
  const biasPtr = L.put(bias), multPtr = L.put(mult), shiftPtr = L.put(shift);
  const outBytes = outH * outW * c.outPixelStride;
  const outPtr = L.space(outBytes);
  const scratch = L.space(c.k === 3 ? scratchBytes : 0);
  load(ks, L);
  ks.packConvWeights(c.k, c.cin, c.cout, weights, wPtr, c.stride);
  if (c.k === 3) {
    ks.conv3x3(inPtr, c.inH, c.inW, c.cin, c.inZp, outPtr, outH, outW, c.outPixelStride, c.cout, c.stride, c.pads[0], c.pads[1],
      wPtr, biasPtr, multPtr, shiftPtr, c.outZp, c.actMin, c.actMax, c.chunkCin ?? winogradChunk(c.stride, c.cin, weights), scratch, scratchBytes);
  } else {
    ks.conv1x1(inPtr, c.inH * c.inW, c.cin, c.inZp, outPtr, c.outPixelStride, c.cout, wPtr, biasPtr, multPtr, shiftPtr, c.outZp, c.actMin, c.actMax);
  }
  return read(ks, outPtr, outBytes);
}

/** Compare every WASM build with the reference; `spread` also demands a non-degenerate output. */
function check(c: ConvCase, seed: number, spread: boolean | number = false, scratchBytes = CONV3X3_SCRATCH_BYTES): void {
  const want = runConv(reference, c, seed, scratchBytes);
  if (spread) {
    const distinct = new Set(want).size;
    assert.ok(distinct >= (spread === true ? Math.min(16, want.length >> 2) : spread), `test case too degenerate (${distinct} distinct output values): ${JSON.stringify(c)}`);
  }
  for (const ks of wasm) {
    const got = runConv(ks, c, seed, scratchBytes);
    const d = firstDiff(want, got, c.outPixelStride);
    assert.equal(d, null, `${ks.name} ${JSON.stringify(c)} seed ${seed}: ${d}`);
  }
}

/** A random case around a given shape; scales give outputs that neither all saturate nor all vanish. */
function randomCase(rng: Rng, k: 1 | 3, inH: number, inW: number, cin: number, cout: number, stride: 1 | 2): ConvCase {
  const padsChoices: [number, number, number, number][] = [[1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0], [1, 0, 1, 2], [0, 1, 2, 0], [2, 2, 2, 2]];
  const pads = k === 1 ? [0, 0, 0, 0] as [number, number, number, number] : rng.pick(padsChoices);
  const inZp = rng.pick([-128, 127, 0, rng.int(-128, 127)]);
  const outZp = rng.pick([-128, 127, 0, rng.int(-128, 127)]);
  const relu = outZp < 32 && rng.float() < 0.5;
  // |acc| ~ 128 * 64 * sqrt(9 cin): aim the multiplier so outputs spread over int8
  const typical = Math.log2(128 * 64 * Math.sqrt(k * k * cin));
  const centre = Math.log2(64) - typical;
  return {
    k, inH, inW, cin, cout, stride, pads,
    outPixelStride: cout + rng.pick([0, 0, 0, 1, 5, 17]),
    inZp, outZp, actMin: relu ? outZp : -128, actMax: 127,
    scale: [centre - 3, centre + 3], biasMax: 1 << 16,
  };
}

test('conv3x3: random shapes, strides, paddings, zero points', () => {
  const rng = new Rng(7);
  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1], [3, 3, 1, 1], [5, 7, 3, 8], [7, 5, 3, 32], [6, 9, 1, 16], [9, 6, 2, 5], [8, 8, 8, 8], [5, 13, 16, 3],
    [11, 4, 32, 33], [4, 17, 24, 7], [3, 5, 64, 64], [2, 9, 12, 2], [4, 4, 512, 6], [3, 3, 509, 3], [2, 6, 130, 9], [16, 16, 4, 4],
  ];
  let seed = 100;
  for (const [h, w, cin, cout] of shapes) {
    for (const stride of [1, 2] as const) check(randomCase(rng, 3, h, w, cin, cout, stride), seed++, h * w * cout >= 256 ? 4 : false);
  }
});

test('conv3x3: Keras [0,0,1,1] and PyTorch [1,1,1,1] padding, odd sizes at stride 2, strided output', () => {
  const base = randomCase(new Rng(3), 3, 9, 11, 5, 6, 2);
  check({ ...base, pads: [0, 0, 1, 1], stride: 2 }, 1);
  check({ ...base, pads: [1, 1, 1, 1], stride: 2 }, 2);
  check({ ...base, pads: [1, 1, 1, 1], stride: 1 }, 3);
  check({ ...base, pads: [0, 0, 0, 0], stride: 1 }, 4); // a tile with padTop = padLeft = 0
  check({ ...base, inH: 10, inW: 10, pads: [0, 0, 1, 1], stride: 2, outPixelStride: 40 }, 5);
});

test('conv3x3: extreme multipliers, biases and zero points saturate identically', () => {
  const rng = new Rng(11);
  const base = randomCase(rng, 3, 6, 7, 19, 10, 1);
  check({ ...base, scale: [-31, -25], biasMax: 2 ** 30 }, 1); // tiny: bias decides
  check({ ...base, scale: [0, 20], biasMax: 10 }, 2); // multiplier >= 1: shift > 0, mostly saturated
  check({ ...base, scale: [-1, 1], biasMax: 3, inputRange: [-2, 2] }, 3); // around 1
  check({ ...base, inZp: -128, outZp: 127, actMin: 127, actMax: 127, scale: [-10, -5], biasMax: 100 }, 4);
  check({ ...base, inZp: 127, outZp: -128, actMin: -128, actMax: -128, scale: [-10, -5], biasMax: 100 }, 5);
  check({ ...base, inputRange: [-128, -128], inZp: 127, scale: [-12, -8], biasMax: 2 ** 31 - 1 }, 6);
  check({ ...base, scale: [-40, -34], biasMax: 2 ** 31 - 1 }, 7); // multiplier 0
  const mid = (base.scale[0] + base.scale[1]) / 2;
  check({ ...base, scale: [mid - 1, mid + 1], pow2: true, actMin: -128, biasMax: 1 << 10 }, 8, true); // ties: round half up
  check({ ...base, scale: [mid + 4, mid + 6], pow2: true, inputRange: [-4, 4], actMin: -128, biasMax: 5 }, 9, true);
});

test('conv3x3 stride 1 (Winograd F(4x4, 3x3) for cin a multiple of 8): exact at the largest sums it takes', () => {
  // every input -128 with zero point 127 (x - zp = -255) against all-+127 or all--127 weights: the
  // largest |sum|, 9 * cin * 255 * 127: at WINOGRAD4_CHUNK_CIN = 112 (F(4x4, 3x3) recovers it from 576x
  // it modulo 2^32, exact below 2^25), at 120 (two chunks), at WINOGRAD_MAX_CIN = 1024 (ten), and just
  // past it (1032: the direct kernel); border pixels have fewer taps, so outputs differ
  const rng = new Rng(19);
  let seed = 400;
  for (const cin of [8, WINOGRAD4_CHUNK_CIN, WINOGRAD4_CHUNK_CIN + 8, 384, WINOGRAD_MAX_CIN, WINOGRAD_MAX_CIN + 8]) {
    for (const w of [127, -127]) {
      const base = randomCase(rng, 3, 5, 6, cin, 5, 1);
      check({ ...base, pads: [1, 1, 1, 1], inZp: 127, outZp: 0, actMin: -128, inputRange: [-128, -128], weightRange: [w, w], scale: [-22 + Math.log2(1024 / cin), -21 + Math.log2(1024 / cin)], biasMax: 1000 }, seed++, 4);
    }
  }
  // mixed signs at full range, odd output sizes (partial tiles), every padding
  for (const [h, w] of [[1, 1], [2, 3], [5, 9], [8, 17]]) check(randomCase(rng, 3, h, w, 24, 9, 1), seed++);
});

test('conv3x3 F(4x4, 3x3) over more than WINOGRAD4_CHUNK_CIN channels: chunks as the weights allow, and only as they allow', () => {
  // inputs at their extreme (x - zp = -255) against constant weights: the largest sums those weights give
  const cin = 384;
  const extreme = (w: number, seed: number, chunkCin?: number) => check({
    ...randomCase(new Rng(seed), 3, 5, 6, cin, 5, 1), pads: [1, 1, 1, 1], inZp: 127, outZp: 0, actMin: -128, inputRange: [-128, -128],
    weightRange: [w, w], scale: [-22 + Math.log2((1024 * 127) / (cin * Math.abs(w))), -21 + Math.log2((1024 * 127) / (cin * Math.abs(w)))], biasMax: 1000, chunkCin,
  }, seed, 4);
  const weights = (w: number) => new Int8Array(5 * 9 * cin).fill(w);
  // all +-127: no chunk past WINOGRAD4_CHUNK_CIN is exact, so 0 (the kernel's own chunks)
  assert.equal(winogradChunk(1, cin, weights(127)), 0);
  extreme(127, 500);
  // all 100: 144 channels (100 * 9 * 144 * 255 < 2^25 <= 100 * 9 * 152 * 255): two chunks
  const c100 = winogradChunk(1, cin, weights(-100));
  assert.equal(c100, 144);
  extreme(-100, 501);
  // the kernel does what it is told: one chunk of all of them wraps, and differs from the reference
  assert.throws(() => extreme(-100, 501, cin), /expected/);
  // trained weights are far smaller (busi-lite's largest channel: 52 % of the bound over 384 channels): random
  // ones within +-40 are one chunk
  assert.equal(winogradChunk(1, cin, new Rng(7).int8(5 * 9 * cin, -40, 40)), cin);
  check({ ...randomCase(new Rng(502), 3, 7, 9, cin, 6, 1), weightRange: [-40, 40] }, 502);
  // a chunk must hold for every output channel at once, and chunks start at multiples of it: output
  // channel 0 alone allows 312 channels, but not 160 (its channels 160-319 sum over the bound); channel 1
  // allows 160 and nothing from 168 to 312 (its channels 0-167 sum over it); both allow 152
  const two = new Int8Array(2 * 9 * cin);
  const fill = (o: number, c0: number, c1: number, v: number) => { for (let t = 0; t < 9; t++) two.fill(v, (o * 9 + t) * cin + c0, (o * 9 + t) * cin + c1); };
  fill(0, 160, 240, 127); fill(0, 240, 320, -60);
  fill(1, 0, 115, 127); fill(1, 160, 168, -127);
  assert.equal(winogradChunk(1, cin, two), 152);
});

test('conv3x3 refuses a chunkCin that is not a multiple of 8, or negative', () => {
  const c = randomCase(new Rng(29), 3, 4, 4, 16, 4, 1);
  for (const chunkCin of [12, -8]) {
    assert.throws(() => runConv(reference, { ...c, chunkCin }, 1, CONV3X3_SCRATCH_BYTES), /chunkCin must be 0 or a positive multiple of 8/);
    for (const ks of wasm) assert.throws(() => runConv(ks, { ...c, chunkCin }, 1, CONV3X3_SCRATCH_BYTES), /chunkCin not a multiple of 8/);
  }
});

test('conv3x3: a row wider than the scratch is tiled', () => {
  // 1 MiB scratch, 3 rows of 700 pixels x 256 channels x 2 bytes needs ~1.07 MiB
  check(randomCase(new Rng(5), 3, 3, 700, 256, 2, 1), 1);
});

test('conv1x1: random shapes (1 to 512 channels)', () => {
  const rng = new Rng(9);
  const shapes: [number, number][] = [[1, 1], [3, 1], [8, 1], [32, 1], [5, 7], [17, 33], [64, 2], [512, 5], [509, 1], [16, 16]];
  let seed = 200;
  for (const [cin, cout] of shapes) {
    check(randomCase(rng, 1, rng.int(1, 5), rng.int(1, 9), cin, cout, 1), seed++);
  }
  const base = randomCase(rng, 1, 3, 5, 12, 3, 1);
  check({ ...base, scale: [0, 20] }, seed++);
  check({ ...base, scale: [-40, -33], biasMax: 2 ** 31 - 1 }, seed++);
  const mid = (base.scale[0] + base.scale[1]) / 2;
  check({ ...base, scale: [mid - 1, mid + 1], pow2: true, actMin: -128 }, seed++, true);
});

test('conv3x3: many row bands and column tiles (small scratch) give the same bytes', () => {
  // 4 KiB of scratch: a band holds a few widened rows, wide rows are split into column tiles;
  // the Winograd paths (stride 1, cin a multiple of 8) need one block of 4 tiles' transformed
  // input (288 * cin bytes), their widened rows (216 * cin) and fixed buffers besides, so they get
  // a little more than that: a few bands and column chunks there (and the direct kernel, for its 3
  // rows of 3 pixels, 24 * cin); outputs 8-12 wide (rows of 2-3 tiles: blocks run across tile rows)
  // in bands of a few tile rows
  const small = 4096;
  const scratchFor = (stride: number, cin: number) => (stride === 1 && cin % 8 === 0 ? 12288 + 560 * cin : Math.max(small, 24 * cin));
  const rng = new Rng(13);
  const shapes: [number, number, number, number][] = [[17, 9, 8, 4], [12, 40, 16, 5], [9, 33, 3, 8], [7, 70, 24, 3], [20, 6, 64, 2], [9, 21, 128, 3], [6, 11, 240, 5], [13, 8, 16, 3], [30, 12, 8, 2]];
  let seed = 300;
  for (const [h, w, cin, cout] of shapes) {
    for (const stride of [1, 2] as const) check(randomCase(rng, 3, h, w, cin, cout, stride), seed++, false, scratchFor(stride, cin));
  }
  assert.throws(() => check(randomCase(rng, 3, 4, 4, 1024, 1, 1), seed++, false, small), /scratch region too small/);
});

test('conv3x3 writes only its output and the scratch it is given', () => {
  const c = randomCase(new Rng(17), 3, 9, 23, 12, 5, 1);
  const [outH, outW] = outSize(c);
  const scratchBytes = 8192; // several bands
  for (const ks of [reference, ...wasm]) {
    const rng = new Rng(3);
    const L = new Layout();
    const inPtr = L.put(rng.int8(c.inH * c.inW * c.cin));
    const wPtr = L.weights(packedWeightBytes(ks, 3, c.cin, c.cout, c.stride));
    const q = quantizeMultiplier(2 ** -9);
    const biasPtr = L.put(new Int32Array(c.cout).fill(7)), multPtr = L.put(new Int32Array(c.cout).fill(q.multiplier)), shiftPtr = L.put(new Int32Array(c.cout).fill(q.shift));
    const outBytes = outH * outW * c.outPixelStride;
    const outPtr = L.space(outBytes);
    const scratch = L.space(scratchBytes);
    const after = L.space(256);
    load(ks, L);
    ks.packConvWeights(3, c.cin, c.cout, rng.int8(c.cout * 9 * c.cin, -127, 127), wPtr, c.stride);
    const before = read(ks, 0, after + 256);
    ks.conv3x3(inPtr, c.inH, c.inW, c.cin, c.inZp, outPtr, outH, outW, c.outPixelStride, c.cout, c.stride, c.pads[0], c.pads[1],
      wPtr, biasPtr, multPtr, shiftPtr, c.outZp, c.actMin, c.actMax, 0, scratch, scratchBytes);
    const now = read(ks, 0, after + 256);
    const inside = (i: number) => (i >= outPtr && i < outPtr + outBytes) || (i >= scratch && i < scratch + scratchBytes);
    const changed = [...now.keys()].filter((i) => now[i] !== before[i] && !inside(i));
    assert.deepEqual(changed, [], `${ks.name} wrote outside its output and scratch`);
    if (ks !== reference) assert.ok([...now.subarray(scratch, scratch + scratchBytes)].some((v, i) => v !== before[scratch + i]), `${ks.name} did not use the scratch it was given`);
  }
});
