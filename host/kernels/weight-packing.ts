// The packed conv weight layout of the WebAssembly kernels (assembly/kernels/conv3x3.ts,
// conv1x1.ts read it; docs/quantization.md draws it). Weights are widened to i16 once
// at load so the kernels' inner loops are plain i16x8 dot products:
//   3x3: per output channel one run, the 3x3xcin window in the kernel's patch order
//        [kx][ky][c], zero-padded to a multiple of WEIGHT_RUN_LANES; channels in groups of
//        CONV3X3_GROUP whose runs are cut into slices of WEIGHT_RUN_LANES values laid side by
//        side ([group][slice][channel][lanes]), a missing last channel zero, so conv3x3
//        loads a group's weights at fixed offsets from one pointer;
//   1x1: per output channel, cin values zero-padded the same way.
// The padding is zero, so whatever a kernel multiplies it with contributes nothing.
import { CONV3X3_GROUP, WEIGHT_RUN_LANES } from './kernel-constants.js';

const roundUp = (n: number) => Math.ceil(n / WEIGHT_RUN_LANES) * WEIGHT_RUN_LANES;

/** i16 values of one output channel's packed run. */
export function packedRun(k: 1 | 3, cin: number): number {
  return roundUp(k * k * cin);
}

/** Bytes one output channel's packed weights take. */
export function packedConvWeightBytes(k: 1 | 3, cin: number): number {
  return packedRun(k, cin) * 2;
}

/** Output channels packed together: a channel range starts at a multiple of this. */
export function packedChannelGroup(k: 1 | 3): number {
  return k === 3 ? CONV3X3_GROUP : 1;
}

/** Pack `cout` channels of OHWI int8 weights at byte offset `dst` (2-byte aligned) of the first `usable` bytes of `heap`. */
export function packConvWeights(heap: ArrayBufferLike, usable: number, k: 1 | 3, cin: number, cout: number, ohwi: Int8Array, dst: number): void {
  const n = k * k * cin * cout;
  if (ohwi.length !== n) throw new RangeError(`packConvWeights: expected ${n} OHWI weights (${cout}x${k}x${k}x${cin}), got ${ohwi.length}`);
  if (dst % 2 !== 0) throw new RangeError(`packConvWeights: destination ${dst} must be 2-byte aligned (16 recommended)`);
  const group = packedChannelGroup(k);
  const bytes = packedConvWeightBytes(k, cin) * Math.ceil(cout / group) * group;
  if (!Number.isInteger(dst) || dst < 0 || dst + bytes > Math.min(usable, heap.byteLength)) {
    throw new RangeError(`packConvWeights: [${dst}, ${dst + bytes}) lies outside the heap of ${usable} bytes`);
  }
  const out = new Int16Array(heap, dst, bytes >> 1);
  out.fill(0);
  const run = packedRun(k, cin);
  if (k === 1) {
    for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) out[o * run + c] = ohwi[o * cin + c];
    return;
  }
  const L = WEIGHT_RUN_LANES;
  for (let o = 0; o < cout; o++) {
    const base = Math.floor(o / group) * run * group + (o % group) * L;
    for (let kx = 0; kx < 3; kx++) {
      for (let ky = 0; ky < 3; ky++) {
        const src = ((o * 3 + ky) * 3 + kx) * cin; // OHWI
        const at = (kx * 3 + ky) * cin; // patch order
        for (let c = 0; c < cin; c++) {
          const i = at + c;
          out[base + Math.floor(i / L) * L * group + (i % L)] = ohwi[src + c];
        }
      }
    }
  }
}
