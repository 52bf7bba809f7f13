// The kernel ABI shared by the WebAssembly kernels (assembly/kernels/*) and the
// plain TypeScript integer reference (host/kernels/reference/*): the same functions,
// the same arguments, over one byte heap addressed by offsets ("pointers").
// The op bindings (host/kernels/ops/), which both engines run, call only this
// interface, so any backend can run any schedule and the results can be compared
// byte for byte.
//
// Conventions (docs/quantization.md):
// - tensors are NHWC int8 (batch 1), compact unless a pixel stride is given;
// - requantization is multiplyByQuantizedMultiplier(acc, multiplier, shift)
//   then + output zero point, then clamp to [actMin, actMax];
// - per-channel arrays (bias, multiplier, shift) are int32, 4-byte aligned;
// - kernels own no memory: a kernel that needs working space (conv3x3's widened
//   rows) takes a scratch pointer and size from its caller.

export interface KernelSet extends KernelFunctions {
  /** 'reference', 'wasm-simd' or 'wasm-relaxed-simd' */
  readonly name: string;
  /** the heap all pointers address; may be replaced when it grows, so re-read it after ensureHeap */
  readonly heap: ArrayBuffer;
  /** grow the heap to at least `bytes` (never shrinks); returns the heap */
  ensureHeap(bytes: number): ArrayBuffer;

  /**
   * bytes one output channel's packed weights take; channel o's weights start o times this
   * into the packed block when o is a multiple of convChannelGroup(k). The layout may depend
   * on the stride (the WebAssembly kernels pack stride-1 3x3 convs for Winograd F(4x4, 3x3))
   */
  convWeightBytes(k: 1 | 3, cin: number, stride: number): number;
  /**
   * output channels packed together: a call's channel range must start at a multiple of
   * this, and the block of n channels takes convWeightBytes * n rounded up to whole groups
   */
  convChannelGroup(k: 1 | 3): number;
  /** pack OHWI int8 weights of `cout` channels of a conv of this stride into the kernel's layout at `dst` */
  packConvWeights(k: 1 | 3, cin: number, cout: number, ohwi: Int8Array, dst: number, stride: number): void;
}

/** The kernels themselves: what the WebAssembly module exports and the reference implements. */
export interface KernelFunctions {
  /**
   * 3x3 conv. out[y][x][o] for y < outH, x < outW, o < cout reads input pixel
   * (y*stride + ky - padTop, x*stride + kx - padLeft); a pixel outside
   * [0,inH) x [0,inW) is padding and counts as inZp (contributes 0).
   * out pixel (y, x) is written at outPtr + (y*outW + x)*outPixelStride.
   * Scratch: bands of input rows are widened into it; more scratch, fewer bands
   * (3 widened rows of 3 pixels must fit, else the WebAssembly kernel refuses the call).
   * chunkCin (0 or a multiple of 8): input channels whose sums the WebAssembly kernel's Winograd
   * F(4x4, 3x3) may recover at once for these weights, as winogradChunk (weight-packing.ts)
   * computes it from them; 0: what holds for any weights. A larger value than the weights allow
   * gives wrong sums; the reference ignores it.
   */
  conv3x3(
    inPtr: number, inH: number, inW: number, cin: number, inZp: number,
    outPtr: number, outH: number, outW: number, outPixelStride: number, cout: number,
    stride: number, padTop: number, padLeft: number,
    wPtr: number, biasPtr: number, multPtr: number, shiftPtr: number,
    outZp: number, actMin: number, actMax: number,
    chunkCin: number,
    scratchPtr: number, scratchBytes: number,
  ): void;

  /** 1x1 conv over `pixels` compact input pixels */
  conv1x1(
    inPtr: number, pixels: number, cin: number, inZp: number,
    outPtr: number, outPixelStride: number, cout: number,
    wPtr: number, biasPtr: number, multPtr: number, shiftPtr: number,
    outZp: number, actMin: number, actMax: number,
  ): void;

  /** 2x2 max-pool, stride 2: out is [inH>>1, inW>>1, c] */
  maxpool2x2(inPtr: number, inH: number, inW: number, c: number, outPtr: number): void;

  /** nearest-neighbour x2: out is [2*inH, 2*inW, c] */
  upsample2x(inPtr: number, inH: number, inW: number, c: number, outPtr: number): void;

  /**
   * One half of a channel concat: out[p][0..c) = requant(in[p] - inZp) + outZp
   * at outPtr + p*outPixelStride (a plain copy when the multiplier is identity).
   */
  requantCopy(
    inPtr: number, pixels: number, c: number, inZp: number,
    mult: number, shift: number, outZp: number,
    outPtr: number, outPixelStride: number,
  ): void;

  /** TFLite int8 element-wise add of n values */
  add(
    aPtr: number, bPtr: number, n: number, aZp: number, bZp: number, leftShift: number,
    aMult: number, aShift: number, bMult: number, bShift: number,
    outMult: number, outShift: number, outZp: number, actMin: number, actMax: number,
    outPtr: number,
  ): void;

  /** out[i] = lut[in[i] + 128] over n values, lut is 256 int8 entries */
  lut(inPtr: number, n: number, lutPtr: number, outPtr: number): void;

  /**
   * Attention-gate multiply, nearest upsample of `a` fused in:
   * out[y][x][ch] = clamp(requant((a[y>>1][x>>1] + 128) * (skip[y][x][ch] - skipZp)) + outZp)
   * for an [h, w, c] skip; `a` is [ceil(h/2), ceil(w/2), 1].
   */
  gateMul(
    aPtr: number, skipPtr: number, h: number, w: number, c: number, skipZp: number,
    mult: number, shift: number, outZp: number, actMin: number, actMax: number,
    outPtr: number,
  ): void;

  /**
   * per-channel affine: out[p][ch] = requant_ch(w[ch] * (in[p][ch] - inZp) + bias[ch]) + outZp.
   */
  affine(
    inPtr: number, pixels: number, c: number, inZp: number,
    wPtr: number, biasPtr: number, multPtr: number, shiftPtr: number,
    outZp: number, actMin: number, actMax: number, outPtr: number,
  ): void;

  /**
   * The chip's DMA engine (host/chip: a DMA instruction's Box): for i < n1, then j < n2, copy
   * `len` bytes from src + i*s1 + j*s2 to dst + i*d1 + j*d2, each run a memmove (a run whose
   * source and destination overlap copies the bytes as they were before it). Counts, strides
   * and length are non-negative.
   */
  copyBox(src: number, dst: number, n1: number, s1: number, d1: number, n2: number, s2: number, d2: number, len: number): void;
}

/** The names of the kernel functions (what a backend must provide). */
export const KERNEL_FUNCTIONS = [
  'conv3x3', 'conv1x1', 'maxpool2x2', 'upsample2x', 'requantCopy', 'add', 'lut', 'gateMul', 'affine', 'copyBox',
] as const satisfies readonly (keyof KernelFunctions)[];

/** Scratch conv3x3 is given by the engines: bands of up to this many bytes of widened rows. */
export const CONV3X3_SCRATCH_BYTES = 1 << 20;
