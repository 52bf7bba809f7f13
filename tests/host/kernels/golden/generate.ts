// Generates the golden int8 vectors in this folder (run from the repo root:
// node --import tsx tests/host/kernels/golden/generate.ts). Expected outputs come from
// an independent formulation: exact rational arithmetic with BigInt
// (acc * M / 2^(31 - shift), rounded half up), written here from the rule in
// docs/quantization.md rather than by calling host/reference. Inputs are small and
// printed in the JSON so a reader can check a value by hand; check.py beside this
// file recomputes every vector with Python integers (/usr/bin/python3 check.py).
import { writeFileSync } from 'node:fs';
import { quantizeMultiplier, quantizeAddParams } from '../../../../models/quant-math.js';
import { Rng } from '../rng.js';

const here = new URL('.', import.meta.url);

/** round-half-up of acc * M * 2^(shift-31), exactly */
function rq(acc: bigint, M: number, shift: number): bigint {
  const den = 1n << BigInt(31 - shift);
  const num = acc * BigInt(M);
  // floor((num + den/2) / den) for any sign
  const t = num + den / 2n;
  return t >= 0n ? t / den : -((-t + den - 1n) / den);
}
const clamp = (v: bigint, lo: number, hi: number) => Number(v < BigInt(lo) ? BigInt(lo) : v > BigInt(hi) ? BigInt(hi) : v);

function conv3x3Case(name: string, seed: number, inH: number, inW: number, cin: number, cout: number, stride: number,
  pads: [number, number, number, number], inZp: number, outZp: number, relu: boolean) {
  const rng = new Rng(seed);
  const input = [...rng.int8(inH * inW * cin, -20, 20)];
  const weights = [...rng.int8(cout * 9 * cin, -9, 9)];
  const bias = Array.from({ length: cout }, () => rng.int(-50, 50));
  const q = Array.from({ length: cout }, () => quantizeMultiplier(0.05 + 0.1 * rng.float()));
  const outH = Math.floor((inH + pads[0] + pads[2] - 3) / stride) + 1;
  const outW = Math.floor((inW + pads[1] + pads[3] - 3) / stride) + 1;
  const actMin = relu ? outZp : -128;
  const expected: number[] = [];
  for (let y = 0; y < outH; y++) for (let x = 0; x < outW; x++) for (let o = 0; o < cout; o++) {
    let acc = BigInt(bias[o]);
    for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
      const iy = y * stride + ky - pads[0], ix = x * stride + kx - pads[1];
      if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) continue;
      for (let c = 0; c < cin; c++) acc += BigInt((input[(iy * inW + ix) * cin + c] - inZp) * weights[((o * 3 + ky) * 3 + kx) * cin + c]);
    }
    expected.push(clamp(rq(acc, q[o].multiplier, q[o].shift) + BigInt(outZp), actMin, 127));
  }
  return { op: 'conv3x3', name, inH, inW, cin, cout, stride, pads, inZp, outZp, actMin, actMax: 127, outH, outW,
    input, weights, bias, multiplier: q.map((v) => v.multiplier), shift: q.map((v) => v.shift), expected };
}

function addCase(name: string, seed: number, n: number) {
  const rng = new Rng(seed);
  const a = [...rng.int8(n)], b = [...rng.int8(n)];
  const p = quantizeAddParams(0.03, 0.05, 0.06);
  const aZp = -3, bZp = 10, outZp = -5;
  const expected = a.map((av, i) => {
    const sa = rq(BigInt((av - aZp) * 2 ** p.leftShift), p.inputA.multiplier, p.inputA.shift);
    const sb = rq(BigInt((b[i] - bZp) * 2 ** p.leftShift), p.inputB.multiplier, p.inputB.shift);
    return clamp(rq(sa + sb, p.output.multiplier, p.output.shift) + BigInt(outZp), -128, 127);
  });
  return { op: 'add', name, n, a, b, aZp, bZp, outZp, actMin: -128, actMax: 127, ...p, expected };
}

function gateCase(name: string, seed: number, h: number, w: number, c: number) {
  const rng = new Rng(seed);
  const gate = [...rng.int8(((h + 1) >> 1) * ((w + 1) >> 1))];
  const skip = [...rng.int8(h * w * c)];
  const q = quantizeMultiplier(1 / 256 * 0.9);
  const skipZp = 4, outZp = -2;
  const expected: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    const g = gate[(y >> 1) * ((w + 1) >> 1) + (x >> 1)] + 128;
    expected.push(clamp(rq(BigInt(g * (skip[(y * w + x) * c + ch] - skipZp)), q.multiplier, q.shift) + BigInt(outZp), -128, 127));
  }
  return { op: 'gateMul', name, h, w, c, gate, skip, skipZp, outZp, actMin: -128, actMax: 127, ...q, expected };
}

/**
 * A DMA box over a small random memory: run (i, j) copies len bytes from src + i*s1 + j*s2 to
 * dst + i*d1 + j*d2, runs in order, each one reading the memory as the runs before it left it
 * (read whole, then written: a run whose ends overlap copies the bytes as they were).
 */
function boxCase(name: string, seed: number, bytes: number, box: [number, number, number, number, number, number, number, number, number]) {
  const rng = new Rng(seed);
  const memory = [...rng.int8(bytes)];
  const [src, dst, n1, s1, d1, n2, s2, d2, len] = box;
  const expected = memory.slice();
  for (let i = 0; i < n1; i++) for (let j = 0; j < n2; j++) {
    const run = expected.slice(src + i * s1 + j * s2, src + i * s1 + j * s2 + len);
    run.forEach((v, k) => { expected[dst + i * d1 + j * d2 + k] = v; });
  }
  return { op: 'copyBox', name, memory, box, expected };
}

const cases = [
  conv3x3Case('conv3x3-pytorch-pad-stride1', 1, 4, 5, 3, 2, 1, [1, 1, 1, 1], -2, 3, false),
  conv3x3Case('conv3x3-keras-pad-stride2', 2, 5, 4, 2, 3, 2, [0, 0, 1, 1], 5, -10, false),
  conv3x3Case('conv3x3-relu-stride2-odd', 5, 5, 5, 2, 3, 2, [1, 1, 1, 1], -1, -40, true),
  addCase('add-tflite', 3, 20),
  gateCase('gatemul-odd', 4, 3, 5, 2),
  // channels 1-2 of a 3x4-pixel tile of 5 channels stored into a 6-pixel-wide tensor of 8 channels: strides on both sides
  boxCase('copybox-channel-group', 6, 240, [1, 64, 3, 20, 48, 4, 5, 8, 2]),
  // 1-byte runs gathering every third byte, the destination inside the source's span
  boxCase('copybox-one-byte-runs', 7, 64, [0, 40, 2, 24, 8, 8, 3, 1, 1]),
  // runs overlapping their own destination (dst = src + 3) and the next run's source
  boxCase('copybox-overlap', 8, 64, [4, 7, 3, 8, 8, 1, 0, 0, 10]),
];
for (const c of cases) {
  writeFileSync(new URL(`${c.name}.json`, here), JSON.stringify(c) + '\n');
  console.log(`wrote ${c.name}.json`);
}
