// How one kernel call divides into calls over disjoint parts of its output, so that
// several threads can run them at once: rows of a 3x3 conv (each part reads the input
// rows under its output rows, the 3x3 halo included, with the padding that applies
// there) or, where its packed weights far outweigh its input, its output channels (groups of
// CONV3X3_GROUP: each part reads the whole input and its own weights), pixels of the
// per-pixel kernels, values of the element-wise ones, runs (or bytes) of a DMA box whose
// parts cannot touch each other's bytes (copyBox: splitBox). Every part
// computes exactly what the whole call computes for those outputs (the kernels'
// arithmetic is per output), so any split is bit-exact with the unsplit call. The
// scratch arguments (conv3x3's last two) stay as given: the caller puts each part's own
// region there (withScratch).
import type { KernelFunctions } from './kernel-set.js';
import { CONV3X3_GROUP } from './kernel-constants.js';
import { packedConvWeightBytes, winogradTile } from './weight-packing.js';

export type KernelName = keyof KernelFunctions;

type Args = number[];

/** `total` items in at most `n` balanced ranges whose inner boundaries are multiples of `align`. */
export function ranges(total: number, n: number, align = 1): [number, number][] {
  const out: [number, number][] = [];
  let a = 0;
  for (let i = 0; i < n && a < total; i++) {
    let b = i === n - 1 ? total : Math.round(((i + 1) * total) / n / align) * align;
    b = Math.min(total, Math.max(b, a + align));
    if (b > a) out.push([a, b]);
    a = b;
  }
  return out;
}

/**
 * What one unit of a kernel's work (a MAC, a value, a pixel's value) costs, in conv MACs, so that
 * one threshold decides for every kernel. Measured per layer on busi-lite at 1 thread (Xeon @
 * 2.8 GHz): a conv MAC 0.015 ns; an added value 2.2 ns, an affine one 1.5, a requantized copy 1.1,
 * a gated one 0.9, a LUT 0.7, an upsampled output 0.3, a pooled input 0.07. Counted in values, the
 * element-wise calls of the gates (up to 0.14 ms) ran on one thread while the other waited. A byte
 * of the chip's DMA boxes (copyBox over busi-lite's 4.3 MB per frame, out of cache, load average
 * 4.5) 0.29-0.33 ns, about 20 MACs; but counted so, boxes of 8 KiB and up were divided and the
 * chip engine at 2 threads spent more (seed +20-31 % over direct, busi-lite CPU +15 %) than
 * with 1 (boxes of 128 KiB and up: most of the seed's bytes, few of its calls; seed +15-22 %,
 * busi-lite CPU +2-5 %), frames alternated, load 3-4 (Xeon @ 2.8 GHz, 2 cores).
 */
const UNIT_COST: Record<KernelName, number> = { conv3x3: 1, conv1x1: 1, add: 128, affine: 96, requantCopy: 64, gateMul: 64, lut: 32, upsample2x: 16, maxpool2x2: 4, copyBox: 1 };

/** Work of a call in conv-MAC equivalents: calls below MIN_SPLIT_WORK run whole, on one thread. */
export function callWork(kernel: KernelName, a: Args): number {
  return callUnits(kernel, a) * UNIT_COST[kernel];
}

function callUnits(kernel: KernelName, a: Args): number {
  switch (kernel) {
    case 'conv3x3': return a[6] * a[7] * a[9] * a[3] * 9; // outH * outW * cout * cin * 9
    case 'conv1x1': return a[1] * a[2] * a[6]; // pixels * cin * cout
    case 'maxpool2x2': return a[1] * a[2] * a[3];
    case 'upsample2x': return 4 * a[1] * a[2] * a[3];
    case 'requantCopy': return a[1] * a[2];
    case 'add': return a[2];
    case 'lut': return a[1];
    case 'gateMul': return a[2] * a[3] * a[4];
    case 'affine': return a[1] * a[2];
    case 'copyBox': return a[2] * a[5] * a[8]; // n1 * n2 * len bytes
  }
}

/**
 * Waking a thread costs about as much as ~10^5 MACs of conv work, so smaller calls are
 * not split (measured: docs/benchmarks.md, threads).
 */
export const MIN_SPLIT_WORK = 1 << 17;

/**
 * Parts per thread a divided call aims for. More parts than threads let a thread that runs
 * ahead take the parts of one the OS holds up (kernel-pool.ts `divide`); each part costs a
 * kernel call and, for a 3x3 conv, re-reading its halo rows.
 */
export const PARTS_PER_THREAD = 4;
/** Most parts of one divided call (the job board's room: kernel-pool.ts; a kernel takes at most 32 arguments) */
export const MAX_PARTS = 64;

/**
 * How many parts to divide a call into on `threads` threads: 1 below `minWork`, else at least one
 * per thread, each with about `minWork` or more; a 3x3 conv divided by output channels, one per
 * thread (each channel part transforms the whole input again: with a part per thread instead of
 * PARTS_PER_THREAD, the seed's channel-divided layers took 6-16 % less time at 2 threads, 2.9 ms a
 * frame, measured per layer with frames of each interleaved, AMD EPYC Zen 3).
 */
export function partCount(kernel: KernelName, a: Args, threads: number, minWork = MIN_SPLIT_WORK): number {
  const work = callWork(kernel, a);
  if (threads <= 1 || work < minWork) return 1;
  if (kernel === 'conv3x3' && byChannels(a)) return threads;
  return Math.min(MAX_PARTS, Math.max(threads, Math.min(threads * PARTS_PER_THREAD, Math.floor(work / Math.max(1, minWork)))));
}

/** Whether splitCall divides this 3x3 conv by output channels (its packed weights far outweigh its input) rather than rows. */
function byChannels(a: Args): boolean {
  const [, inH, inW, cin, , , , , , cout, stride] = a;
  return packedConvWeightBytes(3, cin, stride) * cout > CHANNEL_SPLIT_RATIO * inH * inW * cin;
}

/**
 * A 3x3 conv is divided by output channels only where its packed weights outweigh its input
 * this many times. Each channel part transforms (widens) the whole input again, while a row part
 * re-reads the weights, from cache while they fit there. Chosen by measurement (Xeon @ 2.8 GHz,
 * 2 threads, frames of each policy interleaved in one process): 16 against 1 (weights > input)
 * took busi-lite from 13.4-13.8 to 12.9-13.1 ms and the seed from 154 to 147 ms per frame, 4 %
 * less CPU; 64 and "never" were level with 16 on busi-lite.
 */
export const CHANNEL_SPLIT_RATIO = 16;

/** Fewest output rows, and output channels, a part of a divided 3x3 conv gets (when the call has them). */
const MIN_PART_ROWS = 8;
const MIN_PART_CHANNELS = 32;

/** Kernels whose last two arguments are a scratch pointer and size. */
export function takesScratch(kernel: KernelName): boolean {
  return kernel === 'conv3x3';
}

/** `a` with its scratch region replaced (for a part that runs beside others). */
export function withScratch(kernel: KernelName, a: readonly number[], ptr: number, bytes: number): readonly number[] {
  if (!takesScratch(kernel)) return a;
  return [...a.slice(0, -2), ptr, Math.min(bytes, a[a.length - 1])];
}

/** The call `kernel(...a)` as at most `n` calls over disjoint outputs (`partCount` decides n, from the call's work). */
export function splitCall(kernel: KernelName, a: Args, n: number): Args[] {
  if (n <= 1) return [a];
  switch (kernel) {
    case 'conv3x3': {
      const [inPtr, inH, inW, cin, inZp, outPtr, outH, outW, ops, cout, stride, padTop, padLeft, w, bias, mult, shift, ...rest] = a;
      // weights far larger than the input (the deep layers): split output channels, so that each part
      // streams its own slice of the weights once instead of every part all of them
      if (byChannels(a)) {
        const perChannel = packedConvWeightBytes(3, cin, stride);
        // each part transforms (widens) the whole input again: keep parts of MIN_PART_CHANNELS or more
        const parts = ranges(cout, Math.min(n, Math.max(2, Math.floor(cout / MIN_PART_CHANNELS))), CONV3X3_GROUP).map(([o0, o1]) =>
          [inPtr, inH, inW, cin, inZp, outPtr + o0, outH, outW, ops, o1 - o0, stride, padTop, padLeft, w + o0 * perChannel, bias + 4 * o0, mult + 4 * o0, shift + 4 * o0, ...rest]);
        if (parts.length > 1) return parts;
      }
      // parts split at whole tile rows of the Winograd path (4 rows): another part would compute rows it throws away;
      // each part reads (and widens) its halo rows again: keep parts of MIN_PART_ROWS or more
      const parts = ranges(outH, Math.min(n, Math.max(2, Math.floor(outH / MIN_PART_ROWS))), Math.max(1, winogradTile(stride, cin))).map(([y0, y1]) => {
        const top = y0 * stride - padTop; // first input row under output row y0 (negative: padding)
        const r0 = Math.max(0, top);
        const r1 = Math.min(inH, (y1 - 1) * stride - padTop + 3);
        return [inPtr + r0 * inW * cin, r1 - r0, inW, cin, inZp, outPtr + y0 * outW * ops, y1 - y0, outW, ops, cout, stride, r0 - top, padLeft, w, bias, mult, shift, ...rest];
      });
      // a part whose window lies wholly in the padding has no input rows: do not split
      return parts.some((p) => p[1] < 1) ? [a] : parts;
    }
    case 'conv1x1': {
      const [inPtr, pixels, cin, inZp, outPtr, ops, ...rest] = a;
      return ranges(pixels, n).map(([p0, p1]) => [inPtr + p0 * cin, p1 - p0, cin, inZp, outPtr + p0 * ops, ops, ...rest]);
    }
    case 'maxpool2x2': {
      const [inPtr, inH, inW, c, outPtr] = a;
      return ranges(inH >> 1, n).map(([y0, y1]) => [inPtr + 2 * y0 * inW * c, 2 * (y1 - y0), inW, c, outPtr + y0 * (inW >> 1) * c]);
    }
    case 'upsample2x': {
      const [inPtr, inH, inW, c, outPtr] = a;
      return ranges(inH, n).map(([y0, y1]) => [inPtr + y0 * inW * c, y1 - y0, inW, c, outPtr + 4 * y0 * inW * c]);
    }
    case 'requantCopy': {
      const [inPtr, pixels, c, inZp, mult, shift, outZp, outPtr, ops] = a;
      return ranges(pixels, n).map(([p0, p1]) => [inPtr + p0 * c, p1 - p0, c, inZp, mult, shift, outZp, outPtr + p0 * ops, ops]);
    }
    case 'add': {
      const [aPtr, bPtr, count, ...rest] = a;
      const outPtr = rest.pop()!;
      return ranges(count, n, 16).map(([i0, i1]) => [aPtr + i0, bPtr + i0, i1 - i0, ...rest, outPtr + i0]);
    }
    case 'lut': {
      const [inPtr, count, lutPtr, outPtr] = a;
      return ranges(count, n, 16).map(([i0, i1]) => [inPtr + i0, i1 - i0, lutPtr, outPtr + i0]);
    }
    case 'gateMul': {
      const [aPtr, skipPtr, h, w, c, ...rest] = a;
      const outPtr = rest.pop()!;
      // even row boundaries: the attention map has one row per two skip rows
      return ranges(h, n, 2).map(([y0, y1]) => [aPtr + (y0 >> 1) * ((w + 1) >> 1), skipPtr + y0 * w * c, y1 - y0, w, c, ...rest, outPtr + y0 * w * c]);
    }
    case 'affine': {
      const [inPtr, pixels, c, ...rest] = a;
      const outPtr = rest.pop()!;
      return ranges(pixels, n).map(([p0, p1]) => [inPtr + p0 * c, p1 - p0, c, ...rest, outPtr + p0 * c]);
    }
    case 'copyBox': return splitBox(a, n);
  }
}

/**
 * A box (copyBox) as parts over its outer runs (n1), else its inner runs (n2), else byte ranges of
 * its one run (most of the chip's DMA bytes are single runs: whole-width tiles, weight slices).
 * Parts run at once on different threads, so none may write bytes another writes or reads: a box
 * is divided only when its runs lie apart at the destination (d2 >= len, d1 >= a row of runs) and
 * its source and destination spans are disjoint; any other box runs whole, in order. The chip
 * machine's boxes always qualify: each is a rectangle of a tensor (rows x pixels x channels) moved
 * between SRAM and DRAM, or from the staging area (group-ahead.ts) into SRAM — disjoint parts of
 * its region.
 */
function splitBox(a: Args, n: number): Args[] {
  const [src, dst, n1, s1, d1, n2, s2, d2, len] = a;
  if (!(n1 > 0 && n2 > 0 && len > 0 && s1 >= 0 && d1 >= 0 && s2 >= 0 && d2 >= 0)) return [a]; // nothing to move, or refused whole
  const srcEnd = src + (n1 - 1) * s1 + (n2 - 1) * s2 + len;
  const dstEnd = dst + (n1 - 1) * d1 + (n2 - 1) * d2 + len;
  const runsApart = (n2 === 1 || d2 >= len) && (n1 === 1 || d1 >= (n2 - 1) * d2 + len);
  if (!runsApart || (src < dstEnd && dst < srcEnd)) return [a];
  if (n1 > 1) return ranges(n1, n).map(([i0, i1]) => [src + i0 * s1, dst + i0 * d1, i1 - i0, s1, d1, n2, s2, d2, len]);
  if (n2 > 1) return ranges(n2, n).map(([j0, j1]) => [src + j0 * s2, dst + j0 * d2, 1, s1, d1, j1 - j0, s2, d2, len]);
  return ranges(len, n, 64).map(([b0, b1]) => [src + b0, dst + b0, 1, 0, 0, 1, 0, 0, b1 - b0]);
}
