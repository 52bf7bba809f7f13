// The packed conv weight layout of the WebAssembly kernels (assembly/kernels/conv3x3.ts,
// conv1x1.ts read it; docs/quantization.md draws it). Weights are widened to i16 once
// at load so the kernels' inner loops are plain i16x8 dot products:
//   3x3: per output channel one run, the 3x3xcin window in the kernel's patch order
//        [kx][ky][c], zero-padded to a multiple of WEIGHT_RUN_LANES; channels in groups of
//        CONV3X3_GROUP whose runs are cut into slices of WEIGHT_RUN_LANES values laid side by
//        side ([group][slice][channel][lanes]), a missing last channel zero, so conv3x3
//        loads a group's weights at fixed offsets from one pointer;
//   3x3 stride 1, cin a multiple of 8 up to WINOGRAD_MAX_CIN (winogradTile 4): the Winograd
//        F(4x4, 3x3) weights U'' = G'' g G''^T (G'' = diag(4, 6, 6, 24, 24, 1) G, integer; 36
//        values per input channel, each within +-6223) laid [group of CONV3X3_GROUP][p = 6*i + j]
//        [channel pair][channel][2], the layout assembly/kernels/winograd-f4x4.ts reads;
//   1x1: per output channel, cin values zero-padded the same way.
// The padding is zero, so whatever a kernel multiplies it with contributes nothing.
import { CONV3X3_GROUP, WEIGHT_RUN_LANES, WINOGRAD4_CHUNK_CIN, WINOGRAD_MAX_CIN } from './kernel-constants.js';

const roundUp = (n: number) => Math.ceil(n / WEIGHT_RUN_LANES) * WEIGHT_RUN_LANES;

/** i16 values of one output channel's packed run. */
export function packedRun(k: 1 | 3, cin: number): number {
  return roundUp(k * k * cin);
}

/**
 * Output rows (and columns) of a tile of conv3x3's Winograd path for this conv, the rule of
 * assembly/kernels/conv3x3-winograd.ts (winogradConv): 4 (F(4x4, 3x3)) or 0 (the direct kernel).
 */
export function winogradTile(stride: number, cin: number): 0 | 4 {
  return stride === 1 && cin % 8 === 0 && cin > 0 && cin <= WINOGRAD_MAX_CIN ? 4 : 0;
}

/**
 * Most |w| an output channel's taps over a chunk of input channels may sum to for F(4x4, 3x3) to
 * recover the conv's sum exactly: |x - zp| <= 255, and 255 * 131584 < 2^25.
 */
const F4_EXACT_ABS_WEIGHTS = 131584;

/**
 * The chunkCin argument of conv3x3 for these OHWI weights (cin input channels, 3x3, any number
 * of output channels): the most input channels, a multiple of 8, whose F(4x4, 3x3) sums the
 * kernel may recover at once, i.e. for every output channel the |w| of its taps over each chunk
 * the kernel sums (channels [k * chunk, (k + 1) * chunk)) stay within F4_EXACT_ABS_WEIGHTS; or 0
 * where that is WINOGRAD4_CHUNK_CIN, what any int8 weights allow, or the conv does not run
 * F(4x4, 3x3). Trained weights are far from all +-127: busi-lite's largest channel sum is 52 % of
 * the bound over all 384 channels, so each of its convs is one chunk, where the worst case would
 * take up to 4 (an extra output transform per tile each). Chunks start at multiples of their
 * length, so one that holds need not hold shortened: every length is checked, longest first.
 */
export function winogradChunk(stride: number, cin: number, ohwi: Int8Array): number {
  if (winogradTile(stride, cin) === 0 || cin <= WINOGRAD4_CHUNK_CIN) return 0;
  const cout = ohwi.length / (9 * cin);
  // per output channel, running sums of |w| over the 9 taps of input channels 0..c-1
  const run = cin + 1;
  const prefix = new Int32Array(cout * run);
  for (let o = 0; o < cout; o++) {
    for (let t = 0; t < 9; t++) for (let c = 0, at = (o * 9 + t) * cin; c < cin; c++) prefix[o * run + c + 1] += Math.abs(ohwi[at + c]);
    for (let c = 0; c < cin; c++) prefix[o * run + c + 1] += prefix[o * run + c];
  }
  for (let chunk = cin; chunk > WINOGRAD4_CHUNK_CIN; chunk -= 8) {
    let holds = true;
    for (let o = 0; o < cout && holds; o++) {
      for (let c0 = 0; c0 < cin && holds; c0 += chunk) holds = prefix[o * run + Math.min(cin, c0 + chunk)] - prefix[o * run + c0] <= F4_EXACT_ABS_WEIGHTS;
    }
    if (holds) return chunk;
  }
  return 0;
}

/** Points of an F(4x4, 3x3) tile's transform (its 6x6 input window): transformed weights per input channel. */
const F4_POINTS = 36;

/** Bytes one output channel's packed weights take. */
export function packedConvWeightBytes(k: 1 | 3, cin: number, stride: number): number {
  return k === 3 && winogradTile(stride, cin) ? F4_POINTS * cin * 2 : packedRun(k, cin) * 2;
}

/**
 * Write U'' = G'' g G''^T (G'' = [[1,0,0],[-1,-1,-1],[-1,1,-1],[1,2,4],[1,-2,4],[0,0,1]]: the F(4x4, 3x3)
 * G with each row times its denominator) of the 3x3 kernel g[ky][kx] = ohwi[at + (ky*3 + kx)*cin]
 * to out[dst + p*pStep], p = 6*i + j.
 */
const h = new Int32Array(18); // H = G'' g, row-major 6x3
const G4 = [[1, 0, 0], [-1, -1, -1], [-1, 1, -1], [1, 2, 4], [1, -2, 4], [0, 0, 1]] as const;

function packWinograd4Kernel(ohwi: Int8Array, at: number, cin: number, out: Int16Array, dst: number, pStep: number): void {
  for (let i = 0; i < 6; i++) {
    const [a, b, c] = G4[i];
    for (let kx = 0; kx < 3; kx++) h[3 * i + kx] = a * ohwi[at + kx * cin] + b * ohwi[at + (3 + kx) * cin] + c * ohwi[at + (6 + kx) * cin];
  }
  for (let i = 0; i < 6; i++) {
    const h0 = h[3 * i], h1 = h[3 * i + 1], h2 = h[3 * i + 2];
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
  if (winogradTile(stride, cin)) {
    for (let o = 0; o < cout; o++) {
      const base = Math.floor(o / group) * group * F4_POINTS * cin + (o % group) * 2;
      // [p][channel pair][channel in group][2]
      for (let c = 0; c < cin; c++) packWinograd4Kernel(ohwi, o * 9 * cin + c, cin, out, base + (c >> 1) * group * 2 + (c & 1), (cin >> 1) * group * 2);
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
