// The packed conv weight layout of the WebAssembly kernels (assembly/kernels/conv3x3.ts,
// conv1x1.ts read it; docs/quantization.md draws it). Weights are widened to i16 once
// at load so the kernels' inner loops are plain i16x8 dot products:
//   3x3: per output channel one run, the 3x3xcin window in the kernel's patch order
//        [kx][ky][c], zero-padded to a multiple of WEIGHT_RUN_LANES; channels in groups of
//        CONV3X3_GROUP whose runs are cut into slices of WEIGHT_RUN_LANES values laid side by
//        side ([group][slice][channel][lanes]), a missing last channel zero, so conv3x3
//        loads a group's weights at fixed offsets from one pointer;
//   3x3 stride 1, cin a multiple of 8 up to WINOGRAD4_MAX_CIN (winogradTile 4): the Winograd
//        F(4x4, 3x3) weights U'' = G'' g G''^T (G'' = diag(4, 6, 6, 24, 24, 1) G, integer; 36
//        values per input channel, each within +-6223) laid [group of CONV3X3_GROUP][p = 6*i + j]
//        [channel pair][channel][2], the layout assembly/kernels/winograd-f4x4.ts reads;
//   3x3 stride 1, cin a multiple of 8 above that, up to WINOGRAD_MAX_CIN (winogradTile 2): the Winograd
//        F(2x2, 3x3) weights U = G' g G'^T (G' = 2G, integer; 16 values per input channel, each
//        within +-1143) laid [group of CONV3X3_GROUP][p = 4*i + j][channel pair][channel][2],
//        the layout assembly/kernels/winograd-f2x2.ts reads;
//   1x1: per output channel, cin values zero-padded the same way.
// The padding is zero, so whatever a kernel multiplies it with contributes nothing.
import { CONV3X3_GROUP, WEIGHT_RUN_LANES, WINOGRAD4_MAX_CIN, WINOGRAD_MAX_CIN } from './kernel-constants.js';

const roundUp = (n: number) => Math.ceil(n / WEIGHT_RUN_LANES) * WEIGHT_RUN_LANES;

/** i16 values of one output channel's packed run. */
export function packedRun(k: 1 | 3, cin: number): number {
  return roundUp(k * k * cin);
}

/**
 * Output rows (and columns) of a tile of conv3x3's Winograd path for this conv, the rule of
 * assembly/kernels/conv3x3-winograd.ts: 4 (F(4x4, 3x3)), 2 (F(2x2, 3x3)) or 0 (the direct kernel).
 */
export function winogradTile(stride: number, cin: number): 0 | 2 | 4 {
  if (stride !== 1 || cin % 8 !== 0 || cin <= 0 || cin > WINOGRAD_MAX_CIN) return 0;
  return cin <= WINOGRAD4_MAX_CIN ? 4 : 2;
}

/** Bytes one output channel's packed weights take. */
export function packedConvWeightBytes(k: 1 | 3, cin: number, stride: number): number {
  const tile = k === 3 ? winogradTile(stride, cin) : 0;
  return tile ? (tile + 2) ** 2 * cin * 2 : packedRun(k, cin) * 2;
}

/**
 * Write U = G' g G'^T (G' = 2G = [[2,0,0],[1,1,1],[1,-1,1],[0,0,2]]: integer, so U is 4x the
 * textbook one) of the 3x3 kernel g[ky][kx] = ohwi[at + (ky*3 + kx)*cin] to out[dst + p*pStep], p = 4*i + j.
 * Spelled out rather than as matrix products: every engine start packs every layer.
 */
const h = new Int32Array(12); // H = G' g, row-major 4x3

function packWinogradKernel(ohwi: Int8Array, at: number, cin: number, out: Int16Array, dst: number, pStep: number): void {
  for (let kx = 0; kx < 3; kx++) {
    // column kx of H
    const g0 = ohwi[at + kx * cin], g1 = ohwi[at + (3 + kx) * cin], g2 = ohwi[at + (6 + kx) * cin];
    h[kx] = 2 * g0; h[3 + kx] = g0 + g1 + g2; h[6 + kx] = g0 - g1 + g2; h[9 + kx] = 2 * g2;
  }
  for (let i = 0; i < 4; i++) {
    const h0 = h[3 * i], h1 = h[3 * i + 1], h2 = h[3 * i + 2];
    const row = dst + 4 * i * pStep;
    out[row] = 2 * h0;
    out[row + pStep] = h0 + h1 + h2;
    out[row + 2 * pStep] = h0 - h1 + h2;
    out[row + 3 * pStep] = 2 * h2;
  }
}

/**
 * Write U'' = G'' g G''^T (G'' = [[1,0,0],[-1,-1,-1],[-1,1,-1],[1,2,4],[1,-2,4],[0,0,1]]: the F(4x4, 3x3)
 * G with each row times its denominator) of the 3x3 kernel g[ky][kx] = ohwi[at + (ky*3 + kx)*cin]
 * to out[dst + p*pStep], p = 6*i + j.
 */
const h6 = new Int32Array(18); // H = G'' g, row-major 6x3
const G4 = [[1, 0, 0], [-1, -1, -1], [-1, 1, -1], [1, 2, 4], [1, -2, 4], [0, 0, 1]] as const;

function packWinograd4Kernel(ohwi: Int8Array, at: number, cin: number, out: Int16Array, dst: number, pStep: number): void {
  for (let i = 0; i < 6; i++) {
    const [a, b, c] = G4[i];
    for (let kx = 0; kx < 3; kx++) h6[3 * i + kx] = a * ohwi[at + kx * cin] + b * ohwi[at + (3 + kx) * cin] + c * ohwi[at + (6 + kx) * cin];
  }
  for (let i = 0; i < 6; i++) {
    const h0 = h6[3 * i], h1 = h6[3 * i + 1], h2 = h6[3 * i + 2];
    for (let j = 0; j < 6; j++) {
      const [a, b, c] = G4[j];
      out[dst + (6 * i + j) * pStep] = a * h0 + b * h1 + c * h2;
    }
  }
}

/** Output channels packed together: a channel range starts at a multiple of this. */
export function packedChannelGroup(k: 1 | 3): number {
  return k === 3 ? CONV3X3_GROUP : 1;
}

/** Pack `cout` channels of OHWI int8 weights at byte offset `dst` (2-byte aligned) of the first `usable` bytes of `heap`. */
export function packConvWeights(heap: ArrayBufferLike, usable: number, k: 1 | 3, cin: number, cout: number, ohwi: Int8Array, dst: number, stride: number): void {
  const n = k * k * cin * cout;
  if (ohwi.length !== n) throw new RangeError(`packConvWeights: expected ${n} OHWI weights (${cout}x${k}x${k}x${cin}), got ${ohwi.length}`);
  if (dst % 2 !== 0) throw new RangeError(`packConvWeights: destination ${dst} must be 2-byte aligned (16 recommended)`);
  const group = packedChannelGroup(k);
  const bytes = packedConvWeightBytes(k, cin, stride) * Math.ceil(cout / group) * group;
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
  const tile = winogradTile(stride, cin);
  const winograd = tile === 4 ? { points: 36, pack: packWinograd4Kernel } : tile === 2 ? { points: 16, pack: packWinogradKernel } : null;
  if (winograd) {
    for (let o = 0; o < cout; o++) {
      const base = Math.floor(o / group) * group * winograd.points * cin + (o % group) * 2;
      // [p][channel pair][channel in group][2]
      for (let c = 0; c < cin; c++) winograd.pack(ohwi, o * 9 * cin + c, cin, out, base + (c >> 1) * group * 2 + (c & 1), (cin >> 1) * group * 2);
    }
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
