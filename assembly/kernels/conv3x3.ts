// 3x3 convolution, stride 1 or 2, explicit top/left padding (bottom/right follow
// from the output size), per-channel requantization, fused clamp.
// Reference: host/kernels/reference/conv3x3.ts.
// Stride 1 with cin a multiple of 8 (every conv of the network but the first layer and the
// stride-2 gate convs) runs as Winograd F(4x4, 3x3) (conv3x3-winograd.ts: its own packed
// weights; channels summed in chunks of chunkCin, the caller's proof of exactness for these
// weights). What follows is the direct kernel for the rest.
//
// Method. For each output row, the three input rows under it are widened into
// scratch as i16 (x - inZp) in patch order: per input column, its 3 rows' cin
// values side by side ([col][ky][c]), padding written as 0. An output pixel's
// whole 3x3xcin window is then one contiguous run of 9*cin values (padding
// contributes exactly 0, so the inner loop has no borders, no zero-point work and
// no kernel-row switches). The packed weights hold per output channel the same
// run ([kx][ky][c]) as i16 zero-padded to a multiple of 8 (runPad), in groups of 4
// output channels whose 8-value slices are interleaved ([group][slice][channel 0..3][8],
// packed by host/kernels/weight-packing.ts). One output is a dot product of runPad/8
// i16x8 vectors: i32x4.dot_i16x8_s. The core is register-blocked over 2 output
// pixels x 4 output channels (8 accumulators): each input vector is loaded once for
// 4 channels, each weight vector once for 2 pixels; the 4 channels' weights sit at
// fixed offsets from one pointer, so the loop carries three pointers and no per-load
// address arithmetic (measured 1.2x over per-channel weight blocks; unrolling by hand
// was slower; one run instead of three kernel rows: small cin, see docs/benchmarks.md).
// The accumulators reduce to [p0 c, p1 c, p0 c', p1 c'] so each 64-bit half has one
// (M, shift). Loop order: band of output rows (widened once) -> 4 output channels
// (weights stay in L1) -> row -> pixel pair. A last 1-2 channels run one at a time
// over 8 pixels (lanes = pixels; about half the 4-channel rate, measured), a last 3
// as a group of 4.
import { roundConst, unbiasConst, accBound, mulByQuantizedMultiplier2x2, mulByQuantizedMultiplier4, pair, finish8, requantParams, outputPair, PARAM_BYTES } from './quant';
import { fail, checkZp, checkAct, checkRequant, ERR_STRIDE, ERR_PADDING, ERR_SHAPE, ERR_SCRATCH, ERR_CHANNELS } from './errors';
import { WEIGHT_RUN_LANES } from '../../host/kernels/kernel-constants';
import { widenPixel } from './widen';
import { winogradConv, conv3x3Winograd } from './conv3x3-winograd';

/** i16 values of one output channel's packed run, the 3x3xcin window (host/kernels/weight-packing.ts) */
// @ts-ignore: decorator
@inline export function convRunPad(cin: i32): i32 { return (9 * cin + WEIGHT_RUN_LANES - 1) & ~(WEIGHT_RUN_LANES - 1); }

/** sum of the 4 lanes of each of a, b, c, d -> [sum a, sum b, sum c, sum d] */
// @ts-ignore: decorator
@inline export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

/** bytes of one output row's patch buffer over `cols` input columns (16 bytes of zero slack for the last run's overread) */
// @ts-ignore: decorator
@inline function rowBytesFor(cols: i32, cin: i32): i32 { return ((cols * 3 * cin + 8) * 2 + 15) & ~15; }

/**
 * Widen input rows iy0..iy0+2, columns ix0 .. ix0+cols-1 (outside the image: 0), as i16
 * (x - zp) in patch order: dst[(col*3 + ky)*cin + c].
 */
function widenPatchRow(dst: usize, inPtr: usize, iy0: i32, inH: i32, inW: i32, cin: i32, zp: i32, ix0: i32, cols: i32, rowBytes: i32): void {
  const zpv = i16x8.splat(i16(zp));
  const slot = usize(cin << 1);
  // Whole vectors: a slot's last vector may run up to 7 values into the next slot, which
  // is written after it (address order); past the last slot the tail fill below rewrites it.
  let d = dst;
  for (let col = 0; col < cols; col++) {
    for (let ky = 0; ky < 3; ky++) {
      widenPixel(d, inPtr, iy0 + ky, ix0 + col, inH, inW, cin, zpv);
      d += slot;
    }
  }
  const used = i32(d - dst);
  memory.fill(d, 0, rowBytes - used);
}

/** The narrow-input path (conv3x3Narrow) below this cin: the first layer's 1 or 3 channels. */
const NARROW_CIN = 8;

/**
 * conv3x3 for cin < NARROW_CIN (the network's first layer: 1 or 3 channels), direct. The
 * window run of 9*cin values is too short for the dot-product blocks below (2 or 4 vectors per
 * pixel pair, then horizontal sums and requantization per 8 outputs), so here lanes are output
 * channels: each pixel's run is read as pairs of values (v128.load32_splat) against the
 * weights of 4 channels for that pair, transposed from the packed layout into the scratch
 * ([group][pair][channel][2]) once per call. Block: 4 pixels x 8 output channels, 8
 * accumulators; requantization and stores as the Winograd path's (outputPair).
 */
function conv3x3Narrow(
  inPtr: usize, inH: i32, inW: i32, cin: i32, inZp: i32,
  outPtr: usize, outH: i32, outW: i32, outPixelStride: i32, cout: i32,
  stride: i32, padTop: i32, padLeft: i32,
  wPtr: usize, biasPtr: usize, multPtr: usize, shiftPtr: usize,
  outZp: i32, actMin: i32, actMax: i32,
  scratchPtr: usize, scratchBytes: i32,
): void {
  const runPad = convRunPad(cin);
  const pairs = (9 * cin + 1) >> 1; // the last pair's second value meets a zero weight
  const groups = (cout + 3) >> 2;
  // scratch: 2 groups' requantization constants, the transposed weights, then the patch rows
  const params = scratchPtr;
  const wt = params + usize(2 * PARAM_BYTES);
  const tableBytes = (2 * PARAM_BYTES + groups * pairs * 16 + 15) & ~15;
  if (tableBytes >= scratchBytes) fail(ERR_SCRATCH);
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < pairs; k++) {
      const s = (2 * k) >> 3, l = (2 * k) & 7;
      for (let c = 0; c < 4; c++) {
        store<i32>(wt + usize(((g * pairs + k) << 4) + (c << 2)), load<i32>(wPtr + usize((g * 4 * runPad + (s * 4 + c) * 8 + l) << 1)));
      }
    }
  }
  const sbase = scratchPtr + usize(tableBytes);
  const ssize = scratchBytes - tableBytes;
  let tw = outW;
  while (tw > 1 && rowBytesFor((tw - 1) * stride + 3, cin) > ssize) tw = (tw + 1) >> 1;
  if (rowBytesFor((tw - 1) * stride + 3, cin) > ssize) fail(ERR_SCRATCH);
  const zpv = i16x8.splat(i16(outZp));
  const mnv = i16x8.splat(i16(actMin));
  const mxv = i16x8.splat(i16(actMax));
  const ps = usize(outPixelStride);
  const pxStep = usize(stride * 3 * cin * 2);
  const runEnd = usize(pairs << 2);

  for (let x0 = 0; x0 < outW; x0 += tw) {
    const x1 = min(x0 + tw, outW);
    const cols = (x1 - x0 - 1) * stride + 3;
    const rowBytes = rowBytesFor(cols, cin);
    let band = ssize / rowBytes;
    if (band > outH) band = outH;
    for (let y0 = 0; y0 < outH; y0 += band) {
      const y1 = min(y0 + band, outH);
      for (let y = y0; y < y1; y++) {
        widenPatchRow(sbase + usize(y - y0) * usize(rowBytes), inPtr, y * stride - padTop, inH, inW, cin, inZp, x0 * stride - padLeft, cols, rowBytes);
      }
      for (let o = 0; o < cout; o += 8) {
        const oB = o + 4 < cout ? o + 4 : o;
        const wA = wt + usize((o >> 2) * pairs * 16), wB = wt + usize((oB >> 2) * pairs * 16);
        requantParams(params, o, cout, biasPtr, multPtr, shiftPtr);
        requantParams(params + PARAM_BYTES, oB, cout, biasPtr, multPtr, shiftPtr);
        const nA = min(4, cout - o), nB = min(4, cout - oB);
        for (let y = y0; y < y1; y++) {
          const rowBase = sbase + usize(y - y0) * usize(rowBytes);
          const outRow = outPtr + usize(y * outW) * ps;
          for (let x = x0; x < x1; x += 4) {
            // pixels x..x+3 (past x1: the last one again, not stored)
            const q0 = rowBase + usize(x - x0) * pxStep;
            const q1 = rowBase + usize(min(x + 1, x1 - 1) - x0) * pxStep;
            const q2 = rowBase + usize(min(x + 2, x1 - 1) - x0) * pxStep;
            const q3 = rowBase + usize(min(x + 3, x1 - 1) - x0) * pxStep;
            let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
            let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
            for (let j: usize = 0; j < runEnd; j += 4) {
              const x0v = v128.load32_splat(q0 + j), x1v = v128.load32_splat(q1 + j), x2v = v128.load32_splat(q2 + j), x3v = v128.load32_splat(q3 + j);
              const wa = v128.load(wA + (j << 2)), wb = v128.load(wB + (j << 2));
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x0v, wa));
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x1v, wa));
              a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x2v, wa));
              a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x3v, wa));
              b0 = i32x4.add(b0, i32x4.dot_i16x8_s(x0v, wb));
              b1 = i32x4.add(b1, i32x4.dot_i16x8_s(x1v, wb));
              b2 = i32x4.add(b2, i32x4.dot_i16x8_s(x2v, wb));
              b3 = i32x4.add(b3, i32x4.dot_i16x8_s(x3v, wb));
            }
            const d = outRow + usize(x) * ps;
            const r1 = x + 1 < x1, has2 = x + 2 < x1, r3 = x + 3 < x1;
            outputPair(a0, a1, params, d + usize(o), ps, nA, r1, zpv, mnv, mxv);
            if (has2) outputPair(a2, a3, params, d + 2 * ps + usize(o), ps, nA, r3, zpv, mnv, mxv);
            if (oB != o) {
              outputPair(b0, b1, params + PARAM_BYTES, d + usize(oB), ps, nB, r1, zpv, mnv, mxv);
              if (has2) outputPair(b2, b3, params + PARAM_BYTES, d + 2 * ps + usize(oB), ps, nB, r3, zpv, mnv, mxv);
            }
          }
        }
      }
    }
  }
}

export function conv3x3(
  inPtr: usize, inH: i32, inW: i32, cin: i32, inZp: i32,
  outPtr: usize, outH: i32, outW: i32, outPixelStride: i32, cout: i32,
  stride: i32, padTop: i32, padLeft: i32,
  wPtr: usize, biasPtr: usize, multPtr: usize, shiftPtr: usize,
  outZp: i32, actMin: i32, actMax: i32,
  chunkCin: i32,
  scratchPtr: usize, scratchBytes: i32,
): void {
  if (stride != 1 && stride != 2) fail(ERR_STRIDE);
  if (chunkCin < 0 || (chunkCin & 7) != 0) fail(ERR_CHANNELS);
  if (padTop < 0 || padTop > 2 || padLeft < 0 || padLeft > 2) fail(ERR_PADDING);
  if (cin < 1 || cout < 1 || outPixelStride < cout) fail(ERR_CHANNELS);
  if (inH < 1 || inW < 1 || outH < 0 || outW < 0) fail(ERR_SHAPE);
  checkZp(inZp);
  checkAct(outZp, actMin, actMax);
  for (let o = 0; o < cout; o++) checkRequant(load<i32>(multPtr + usize(o << 2)), load<i32>(shiftPtr + usize(o << 2)));
  if (outH == 0 || outW == 0) return;
  if (winogradConv(stride, cin)) {
    conv3x3Winograd(inPtr, inH, inW, cin, inZp, outPtr, outH, outW, outPixelStride, cout, padTop, padLeft,
      wPtr, biasPtr, multPtr, shiftPtr, outZp, actMin, actMax, chunkCin, scratchPtr, scratchBytes);
    return;
  }
  if (cin < NARROW_CIN) {
    conv3x3Narrow(inPtr, inH, inW, cin, inZp, outPtr, outH, outW, outPixelStride, cout, stride, padTop, padLeft,
      wPtr, biasPtr, multPtr, shiftPtr, outZp, actMin, actMax, scratchPtr, scratchBytes);
    return;
  }

  const runPad = convRunPad(cin);
  const runBytes = runPad << 1;
  const wBytes = runBytes; // per channel
  const sbase = scratchPtr;
  const ssize = scratchBytes;

  // Output column tile: the whole row unless one output row's patch buffer would not fit.
  let tw = outW;
  while (tw > 1 && rowBytesFor((tw - 1) * stride + 3, cin) > ssize) tw = (tw + 1) >> 1;
  if (rowBytesFor((tw - 1) * stride + 3, cin) > ssize) fail(ERR_SCRATCH);

  const zpv = i16x8.splat(i16(outZp));
  const mnv = i16x8.splat(i16(actMin));
  const mxv = i16x8.splat(i16(actMax));

  for (let x0 = 0; x0 < outW; x0 += tw) {
    const x1 = min(x0 + tw, outW);
    const cols = (x1 - x0 - 1) * stride + 3;
    const rowBytes = rowBytesFor(cols, cin);
    const ix0 = x0 * stride - padLeft;
    // output rows per band: as many as the scratch holds
    let band = ssize / rowBytes;
    if (band > outH) band = outH;
    const pxStep = usize(stride * 3 * cin * 2); // bytes between neighbouring output pixels' runs
    const rowStep = usize(rowBytes);

    for (let y0 = 0; y0 < outH; y0 += band) {
      const y1 = min(y0 + band, outH);
      for (let y = y0; y < y1; y++) {
        widenPatchRow(sbase + usize(y - y0) * rowStep, inPtr, y * stride - padTop, inH, inW, cin, inZp, ix0, cols, rowBytes);
      }

      let o = 0;
      // groups of 4 channels; a last group of 3 runs here too, its 4th channel zero
      // weights (computed, not stored): 3/4 of this path's rate beats 3 single channels
      for (; o + 3 <= cout; o += 4) {
        const o1 = o + 1, o2 = o + 2, o3 = min(o + 3, cout - 1);
        const full = o + 4 <= cout;
        const wg = wPtr + usize(o * wBytes); // the group's interleaved weights
        // requantization of lanes [p0 c, p1 c, p0 c', p1 c'] for the pairs (o, o1) and (o2, o3)
        const s0 = load<i32>(shiftPtr + usize(o << 2)), s1 = load<i32>(shiftPtr + usize(o1 << 2));
        const s2 = load<i32>(shiftPtr + usize(o2 << 2)), s3 = load<i32>(shiftPtr + usize(o3 << 2));
        const biasA = pair(load<i32>(biasPtr + usize(o << 2)), load<i32>(biasPtr + usize(o1 << 2)));
        const biasB = pair(load<i32>(biasPtr + usize(o2 << 2)), load<i32>(biasPtr + usize(o3 << 2)));
        const multA = pair(load<i32>(multPtr + usize(o << 2)), load<i32>(multPtr + usize(o1 << 2)));
        const multB = pair(load<i32>(multPtr + usize(o2 << 2)), load<i32>(multPtr + usize(o3 << 2)));
        const rnd0 = i64x2.splat(roundConst(s0)), rnd1 = i64x2.splat(roundConst(s1));
        const rnd2 = i64x2.splat(roundConst(s2)), rnd3 = i64x2.splat(roundConst(s3));
        const ubA = pair(unbiasConst(s0), unbiasConst(s1)), ubB = pair(unbiasConst(s2), unbiasConst(s3));
        const hiA = pair(accBound(s0), accBound(s1)), hiB = pair(accBound(s2), accBound(s3));
        const loA = i32x4.neg(hiA), loB = i32x4.neg(hiB);
        const t0 = 31 - s0, t1 = 31 - s1, t2 = 31 - s2, t3 = 31 - s3;

        for (let y = y0; y < y1; y++) {
          const rowBase = sbase + usize(y - y0) * rowStep;
          const outRow = outPtr + usize(y * outW * outPixelStride + o);
          for (let x = x0; x < x1; x += 2) {
            const second = x + 1 < x1;
            const p0 = rowBase + usize(x - x0) * pxStep;
            const p1 = second ? p0 + pxStep : p0;
            let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
            let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
            // three induction pointers (the two pixels' runs, the weights), the group's 4
            // channels at fixed offsets from the weight pointer
            let w = wg, q0 = p0, q1 = p1;
            const qe = q0 + usize(runBytes);
            {
              for (; q0 < qe; q0 += 16, q1 += 16, w += 64) {
                const i0 = v128.load(q0);
                const i1 = v128.load(q1);
                let wv = v128.load(w);
                a00 = i32x4.add(a00, i32x4.dot_i16x8_s(i0, wv));
                a10 = i32x4.add(a10, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(w, 16);
                a01 = i32x4.add(a01, i32x4.dot_i16x8_s(i0, wv));
                a11 = i32x4.add(a11, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(w, 32);
                a02 = i32x4.add(a02, i32x4.dot_i16x8_s(i0, wv));
                a12 = i32x4.add(a12, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(w, 48);
                a03 = i32x4.add(a03, i32x4.dot_i16x8_s(i0, wv));
                a13 = i32x4.add(a13, i32x4.dot_i16x8_s(i1, wv));
              }
            }
            // lanes [p0 o, p1 o, p0 o1, p1 o1] and [p0 o2, p1 o2, p0 o3, p1 o3]
            const rA = mulByQuantizedMultiplier2x2(i32x4.add(hsum4(a00, a10, a01, a11), biasA), multA, rnd0, t0, rnd1, t1, ubA, loA, hiA);
            const rB = mulByQuantizedMultiplier2x2(i32x4.add(hsum4(a02, a12, a03, a13), biasB), multB, rnd2, t2, rnd3, t3, ubB, loB, hiB);
            // int8 lanes [p0 o..o3, p1 o..o3]
            const qv = i8x16.shuffle(finish8(rA, rB, zpv, mnv, mxv), zpv, 0, 2, 4, 6, 1, 3, 5, 7, 0, 0, 0, 0, 0, 0, 0, 0);
            const d = outRow + usize(x * outPixelStride);
            const dd = d + usize(outPixelStride);
            if (full) {
              v128.store32_lane(d, qv, 0);
              if (second) v128.store32_lane(dd, qv, 1);
            } else {
              v128.store16_lane(d, qv, 0);
              v128.store8_lane(d + 2, qv, 2);
              if (second) { v128.store8_lane(dd, qv, 4); v128.store8_lane(dd + 1, qv, 5); v128.store8_lane(dd + 2, qv, 6); }
            }
          }
        }
      }
      // a last 1 or 2 channels, one at a time over 8 pixels (lanes = pixels, one (M, shift))
      for (; o < cout; o++) {
        const w0 = wPtr + usize((o & ~3) * wBytes + ((o & 3) << 4)); // lane o&3 of its group
        const s0 = load<i32>(shiftPtr + usize(o << 2));
        const bias = i32x4.splat(load<i32>(biasPtr + usize(o << 2)));
        const mult = i32x4.splat(load<i32>(multPtr + usize(o << 2)));
        const rnd = i64x2.splat(roundConst(s0)), t0 = 31 - s0, ub = i32x4.splat(unbiasConst(s0));
        const hi = i32x4.splat(accBound(s0)), lo = i32x4.neg(hi);
        for (let y = y0; y < y1; y++) {
          const rowBase = sbase + usize(y - y0) * rowStep;
          const outRow = outPtr + usize(y * outW * outPixelStride + o);
          for (let x = x0; x < x1; x += 8) {
            const nValid = min(8, x1 - x);
            const p0 = rowBase + usize(x - x0) * pxStep;
            const p1 = rowBase + usize(min(x + 1, x1 - 1) - x0) * pxStep;
            const p2 = rowBase + usize(min(x + 2, x1 - 1) - x0) * pxStep;
            const p3 = rowBase + usize(min(x + 3, x1 - 1) - x0) * pxStep;
            const p4 = rowBase + usize(min(x + 4, x1 - 1) - x0) * pxStep;
            const p5 = rowBase + usize(min(x + 5, x1 - 1) - x0) * pxStep;
            const p6 = rowBase + usize(min(x + 6, x1 - 1) - x0) * pxStep;
            const p7 = rowBase + usize(min(x + 7, x1 - 1) - x0) * pxStep;
            let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0), a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
            for (let j: usize = 0; j < usize(runBytes); j += 16) {
              const wv = v128.load(w0 + (j << 2));
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(p0 + j), wv));
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(p1 + j), wv));
              a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(p2 + j), wv));
              a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(p3 + j), wv));
              a4 = i32x4.add(a4, i32x4.dot_i16x8_s(v128.load(p4 + j), wv));
              a5 = i32x4.add(a5, i32x4.dot_i16x8_s(v128.load(p5 + j), wv));
              a6 = i32x4.add(a6, i32x4.dot_i16x8_s(v128.load(p6 + j), wv));
              a7 = i32x4.add(a7, i32x4.dot_i16x8_s(v128.load(p7 + j), wv));
            }
            const r0 = mulByQuantizedMultiplier4(i32x4.add(hsum4(a0, a1, a2, a3), bias), mult, rnd, t0, ub, lo, hi);
            const r1 = mulByQuantizedMultiplier4(i32x4.add(hsum4(a4, a5, a6, a7), bias), mult, rnd, t0, ub, lo, hi);
            const q = finish8(r0, r1, zpv, mnv, mxv);
            const ps = usize(outPixelStride);
            const d = outRow + usize(x) * ps;
            v128.store8_lane(d, q, 0);
            if (nValid > 1) v128.store8_lane(d + ps, q, 1);
            if (nValid > 2) v128.store8_lane(d + 2 * ps, q, 2);
            if (nValid > 3) v128.store8_lane(d + 3 * ps, q, 3);
            if (nValid > 4) v128.store8_lane(d + 4 * ps, q, 4);
            if (nValid > 5) v128.store8_lane(d + 5 * ps, q, 5);
            if (nValid > 6) v128.store8_lane(d + 6 * ps, q, 6);
            if (nValid > 7) v128.store8_lane(d + 7 * ps, q, 7);
          }
        }
      }
    }
  }
}
