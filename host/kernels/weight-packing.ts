// The packed conv weight layout of the WebAssembly kernels (assembly/kernels/conv3x3.ts,
// conv1x1.ts read it; docs/quantization.md draws it). Weights are widened to i16 once
// at load so the kernels' inner loops are plain i16x8 dot products:
//   3x3: per output channel, per kernel row ky: the 3 taps' cin values contiguous
//        (the OHWI order of that row), zero-padded to a multiple of WEIGHT_RUN_LANES;
//   1x1: per output channel, cin values zero-padded the same way.
// The padding is zero, so whatever a kernel multiplies it with contributes nothing.
import { WEIGHT_RUN_LANES } from './kernel-constants.js';

const roundUp = (n: number) => Math.ceil(n / WEIGHT_RUN_LANES) * WEIGHT_RUN_LANES;

/** i16 values of one packed run: one kernel row of one output channel. */
export function packedRun(k: 1 | 3, cin: number): number {
  return roundUp(k * cin);
}

/** Bytes one output channel's packed weights take. */
export function packedConvWeightBytes(k: 1 | 3, cin: number): number {
  return k * packedRun(k, cin) * 2;
}

/** Pack `cout` channels of OHWI int8 weights at byte offset `dst` (2-byte aligned) of the first `usable` bytes of `heap`. */
export function packConvWeights(heap: ArrayBuffer, usable: number, k: 1 | 3, cin: number, cout: number, ohwi: Int8Array, dst: number): void {
  const n = k * k * cin * cout;
  if (ohwi.length !== n) throw new RangeError(`packConvWeights: expected ${n} OHWI weights (${cout}x${k}x${k}x${cin}), got ${ohwi.length}`);
  if (dst % 2 !== 0) throw new RangeError(`packConvWeights: destination ${dst} must be 2-byte aligned (16 recommended)`);
  const bytes = packedConvWeightBytes(k, cin) * cout;
  if (!Number.isInteger(dst) || dst < 0 || dst + bytes > Math.min(usable, heap.byteLength)) {
    throw new RangeError(`packConvWeights: [${dst}, ${dst + bytes}) lies outside the heap of ${usable} bytes`);
  }
  const out = new Int16Array(heap, dst, bytes >> 1);
  out.fill(0);
  const run = packedRun(k, cin);
  const taps = k * cin; // one kernel row of one output channel, OHWI
  for (let row = 0; row < cout * k; row++) {
    for (let i = 0; i < taps; i++) out[row * run + i] = ohwi[row * taps + i];
  }
}
