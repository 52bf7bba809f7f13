// 3x3 convolution, stride 1 or 2, explicit top/left padding (bottom/right follow
// from the output size), per-channel requantization, fused clamp.
// Reference: host/kernels/reference/conv3x3.ts.
//
// Method. Input rows are widened once per band into scratch as i16 (x - inZp),
// with padding columns/rows written as 0, so padding contributes exactly 0 and
// the inner loop has no borders and no zero-point work. In scratch the 3 input
// pixels under a kernel row are contiguous (3*cin values), and the packed weights
// keep, per output channel and kernel row, the same 3*cin values as i16 padded
// with zeros to a multiple of 8 (runPad). So one kernel row of one output is a
// dot product of runPad/8 i16x8 vectors: i32x4.dot_i16x8_s. The core is
// register-blocked over 2 output pixels x 4 output channels (8 accumulators): each
// input vector is loaded once for 4 channels, each weight vector once for 2 pixels;
// the three kernel rows are unrolled (measured: +20 %; unrolling the inner loop
// further was slower, see docs/benchmarks.md). The accumulators reduce to
// [p0 c, p1 c, p0 c', p1 c'] so each 64-bit half has one (M, shift).
// Loop order: band of rows (input widened once) -> 4 output channels (weights stay
// in L1) -> row -> pixel pair. A last 1-2 channels run one at a time over 8 pixels
// (lanes = pixels; about half the 4-channel rate, measured), a last 3 as a group of 4.
import { roundConst, unbiasConst, accBound, mulByQuantizedMultiplier2x2, mulByQuantizedMultiplier4, pair, finish8 } from './quant';
import { fail, checkZp, checkAct, checkRequant, ERR_STRIDE, ERR_PADDING, ERR_SHAPE, ERR_SCRATCH, ERR_CHANNELS } from './errors';
import { WEIGHT_RUN_LANES } from '../../host/kernels/kernel-constants';

/** i16 values per kernel row of one output channel in the packed layout (host/kernels/weight-packing.ts) */
// @ts-ignore: decorator
@inline export function convRunPad(cin: i32): i32 { return (3 * cin + WEIGHT_RUN_LANES - 1) & ~(WEIGHT_RUN_LANES - 1); }

/** sum of the 4 lanes of each of a, b, c, d -> [sum a, sum b, sum c, sum d] */
// @ts-ignore: decorator
@inline export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

/** bytes of one scratch row holding `cols` pixels (16 bytes of zero slack for the last run's overread) */
// @ts-ignore: decorator
@inline function rowBytesFor(cols: i32, cin: i32): i32 { return ((cols * cin + 8) * 2 + 15) & ~15; }

/** Widen input row iy, columns ix0 .. ix0+cols-1 (outside the image: 0), as i16 (x - zp). */
function widenRow(dst: usize, inPtr: usize, iy: i32, inH: i32, inW: i32, cin: i32, zp: i32, ix0: i32, cols: i32, rowBytes: i32): void {
  if (iy < 0 || iy >= inH) {
    memory.fill(dst, 0, rowBytes);
    return;
  }
  const a = max(ix0, 0);
  const b = min(ix0 + cols, inW);
  const left = (a - ix0) * cin; // i16 elements of left padding
  let n = 0;
  if (b > a) {
    n = (b - a) * cin;
    const src = inPtr + usize((iy * inW + a) * cin);
    const d = dst + usize(left << 1);
    const zpv = i16x8.splat(i16(zp));
    // whole vectors; the last may run up to 7 values past the row: rewritten below
    for (let i = 0; i < n; i += 8) {
      v128.store(d + usize(i << 1), i16x8.sub(v128.load8x8_s(src + usize(i)), zpv));
    }
  }
  if (left > 0) memory.fill(dst, 0, left << 1);
  const used = (left + n) << 1;
  memory.fill(dst + usize(used), 0, rowBytes - used);
}

export function conv3x3(
  inPtr: usize, inH: i32, inW: i32, cin: i32, inZp: i32,
  outPtr: usize, outH: i32, outW: i32, outPixelStride: i32, cout: i32,
  stride: i32, padTop: i32, padLeft: i32,
  wPtr: usize, biasPtr: usize, multPtr: usize, shiftPtr: usize,
  outZp: i32, actMin: i32, actMax: i32,
  scratchPtr: usize, scratchBytes: i32,
): void {
  if (stride != 1 && stride != 2) fail(ERR_STRIDE);
  if (padTop < 0 || padTop > 2 || padLeft < 0 || padLeft > 2) fail(ERR_PADDING);
  if (cin < 1 || cout < 1 || outPixelStride < cout) fail(ERR_CHANNELS);
  if (inH < 1 || inW < 1 || outH < 0 || outW < 0) fail(ERR_SHAPE);
  checkZp(inZp);
  checkAct(outZp, actMin, actMax);
  for (let o = 0; o < cout; o++) checkRequant(load<i32>(multPtr + usize(o << 2)), load<i32>(shiftPtr + usize(o << 2)));
  if (outH == 0 || outW == 0) return;

  const runPad = convRunPad(cin);
  const runBytes = runPad << 1;
  const wBytes = 3 * runBytes;
  const sbase = scratchPtr;
  const ssize = scratchBytes;

  // Output column tile: the whole row unless 3 widened input rows would not fit.
  let tw = outW;
  while (tw > 1 && 3 * rowBytesFor((tw - 1) * stride + 3, cin) > ssize) tw = (tw + 1) >> 1;
  if (3 * rowBytesFor((tw - 1) * stride + 3, cin) > ssize) fail(ERR_SCRATCH);

  const zpv = i16x8.splat(i16(outZp));
  const mnv = i16x8.splat(i16(actMin));
  const mxv = i16x8.splat(i16(actMax));

  for (let x0 = 0; x0 < outW; x0 += tw) {
    const x1 = min(x0 + tw, outW);
    const cols = (x1 - x0 - 1) * stride + 3;
    const rowBytes = rowBytesFor(cols, cin);
    const ix0 = x0 * stride - padLeft;
    // output rows per band: as many as the scratch holds
    let band = (ssize / rowBytes - 3) / stride + 1;
    if (band > outH) band = outH;
    const pxStep = usize(stride * cin * 2); // bytes between neighbouring output pixels' runs
    const rowStep = usize(stride * rowBytes); // bytes between neighbouring output rows' runs

    for (let y0 = 0; y0 < outH; y0 += band) {
      const y1 = min(y0 + band, outH);
      const nRows = (y1 - y0 - 1) * stride + 3;
      const iy0 = y0 * stride - padTop;
      for (let r = 0; r < nRows; r++) {
        widenRow(sbase + usize(r * rowBytes), inPtr, iy0 + r, inH, inW, cin, inZp, ix0, cols, rowBytes);
      }

      let o = 0;
      // groups of 4 channels; a last group of 3 runs here too, its 4th channel a copy of
      // the 3rd (computed, not stored): 3/4 of this path's rate beats 3 single channels
      for (; o + 3 <= cout; o += 4) {
        const o1 = o + 1, o2 = o + 2, o3 = min(o + 3, cout - 1);
        const full = o + 4 <= cout;
        const w0 = wPtr + usize(o * wBytes), w1 = wPtr + usize(o1 * wBytes);
        const w2 = wPtr + usize(o2 * wBytes), w3 = wPtr + usize(o3 * wBytes);
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
            // the three kernel rows, unrolled; one induction variable, every address is base + j
            { // kernel row 0
              const q0 = p0 + 0, q1 = p1 + 0;
              const v0 = w0 + 0, v1 = w1 + 0, v2 = w2 + 0, v3 = w3 + 0;
              for (let j: usize = 0; j < usize(runBytes); j += 16) {
                const i0 = v128.load(q0 + j);
                const i1 = v128.load(q1 + j);
                let wv = v128.load(v0 + j);
                a00 = i32x4.add(a00, i32x4.dot_i16x8_s(i0, wv));
                a10 = i32x4.add(a10, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(v1 + j);
                a01 = i32x4.add(a01, i32x4.dot_i16x8_s(i0, wv));
                a11 = i32x4.add(a11, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(v2 + j);
                a02 = i32x4.add(a02, i32x4.dot_i16x8_s(i0, wv));
                a12 = i32x4.add(a12, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(v3 + j);
                a03 = i32x4.add(a03, i32x4.dot_i16x8_s(i0, wv));
                a13 = i32x4.add(a13, i32x4.dot_i16x8_s(i1, wv));
              }
            }
            { // kernel row 1
              const q0 = p0 + usize(rowBytes), q1 = p1 + usize(rowBytes);
              const v0 = w0 + usize(runBytes), v1 = w1 + usize(runBytes), v2 = w2 + usize(runBytes), v3 = w3 + usize(runBytes);
              for (let j: usize = 0; j < usize(runBytes); j += 16) {
                const i0 = v128.load(q0 + j);
                const i1 = v128.load(q1 + j);
                let wv = v128.load(v0 + j);
                a00 = i32x4.add(a00, i32x4.dot_i16x8_s(i0, wv));
                a10 = i32x4.add(a10, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(v1 + j);
                a01 = i32x4.add(a01, i32x4.dot_i16x8_s(i0, wv));
                a11 = i32x4.add(a11, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(v2 + j);
                a02 = i32x4.add(a02, i32x4.dot_i16x8_s(i0, wv));
                a12 = i32x4.add(a12, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(v3 + j);
                a03 = i32x4.add(a03, i32x4.dot_i16x8_s(i0, wv));
                a13 = i32x4.add(a13, i32x4.dot_i16x8_s(i1, wv));
              }
            }
            { // kernel row 2
              const q0 = p0 + usize(2 * rowBytes), q1 = p1 + usize(2 * rowBytes);
              const v0 = w0 + usize(2 * runBytes), v1 = w1 + usize(2 * runBytes), v2 = w2 + usize(2 * runBytes), v3 = w3 + usize(2 * runBytes);
              for (let j: usize = 0; j < usize(runBytes); j += 16) {
                const i0 = v128.load(q0 + j);
                const i1 = v128.load(q1 + j);
                let wv = v128.load(v0 + j);
                a00 = i32x4.add(a00, i32x4.dot_i16x8_s(i0, wv));
                a10 = i32x4.add(a10, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(v1 + j);
                a01 = i32x4.add(a01, i32x4.dot_i16x8_s(i0, wv));
                a11 = i32x4.add(a11, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(v2 + j);
                a02 = i32x4.add(a02, i32x4.dot_i16x8_s(i0, wv));
                a12 = i32x4.add(a12, i32x4.dot_i16x8_s(i1, wv));
                wv = v128.load(v3 + j);
                a03 = i32x4.add(a03, i32x4.dot_i16x8_s(i0, wv));
                a13 = i32x4.add(a13, i32x4.dot_i16x8_s(i1, wv));
              }
            }
            // lanes [p0 o, p1 o, p0 o1, p1 o1] and [p0 o2, p1 o2, p0 o3, p1 o3]
            const rA = mulByQuantizedMultiplier2x2(i32x4.add(hsum4(a00, a10, a01, a11), biasA), multA, rnd0, t0, rnd1, t1, ubA, loA, hiA);
            const rB = mulByQuantizedMultiplier2x2(i32x4.add(hsum4(a02, a12, a03, a13), biasB), multB, rnd2, t2, rnd3, t3, ubB, loB, hiB);
            // int8 lanes [p0 o..o3, p1 o..o3]
            const q = i8x16.shuffle(finish8(rA, rB, zpv, mnv, mxv), zpv, 0, 2, 4, 6, 1, 3, 5, 7, 0, 0, 0, 0, 0, 0, 0, 0);
            const d = outRow + usize(x * outPixelStride);
            const d1 = d + usize(outPixelStride);
            if (full) {
              v128.store32_lane(d, q, 0);
              if (second) v128.store32_lane(d1, q, 1);
            } else {
              v128.store16_lane(d, q, 0);
              v128.store8_lane(d + 2, q, 2);
              if (second) { v128.store8_lane(d1, q, 4); v128.store8_lane(d1 + 1, q, 5); v128.store8_lane(d1 + 2, q, 6); }
            }
          }
        }
      }
      // a last 1 or 2 channels, one at a time over 8 pixels (lanes = pixels, one (M, shift))
      for (; o < cout; o++) {
        const w0 = wPtr + usize(o * wBytes);
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
            { // kernel row 0
              const q0 = p0 + 0, q1 = p1 + 0, q2 = p2 + 0, q3 = p3 + 0, q4 = p4 + 0, q5 = p5 + 0, q6 = p6 + 0, q7 = p7 + 0;
              const v0 = w0 + 0;
              for (let j: usize = 0; j < usize(runBytes); j += 16) {
                const wv = v128.load(v0 + j);
                a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(q0 + j), wv));
                a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(q1 + j), wv));
                a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(q2 + j), wv));
                a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(q3 + j), wv));
                a4 = i32x4.add(a4, i32x4.dot_i16x8_s(v128.load(q4 + j), wv));
                a5 = i32x4.add(a5, i32x4.dot_i16x8_s(v128.load(q5 + j), wv));
                a6 = i32x4.add(a6, i32x4.dot_i16x8_s(v128.load(q6 + j), wv));
                a7 = i32x4.add(a7, i32x4.dot_i16x8_s(v128.load(q7 + j), wv));
              }
            }
            { // kernel row 1
              const q0 = p0 + usize(rowBytes), q1 = p1 + usize(rowBytes), q2 = p2 + usize(rowBytes), q3 = p3 + usize(rowBytes), q4 = p4 + usize(rowBytes), q5 = p5 + usize(rowBytes), q6 = p6 + usize(rowBytes), q7 = p7 + usize(rowBytes);
              const v0 = w0 + usize(runBytes);
              for (let j: usize = 0; j < usize(runBytes); j += 16) {
                const wv = v128.load(v0 + j);
                a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(q0 + j), wv));
                a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(q1 + j), wv));
                a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(q2 + j), wv));
                a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(q3 + j), wv));
                a4 = i32x4.add(a4, i32x4.dot_i16x8_s(v128.load(q4 + j), wv));
                a5 = i32x4.add(a5, i32x4.dot_i16x8_s(v128.load(q5 + j), wv));
                a6 = i32x4.add(a6, i32x4.dot_i16x8_s(v128.load(q6 + j), wv));
                a7 = i32x4.add(a7, i32x4.dot_i16x8_s(v128.load(q7 + j), wv));
              }
            }
            { // kernel row 2
              const q0 = p0 + usize(2 * rowBytes), q1 = p1 + usize(2 * rowBytes), q2 = p2 + usize(2 * rowBytes), q3 = p3 + usize(2 * rowBytes), q4 = p4 + usize(2 * rowBytes), q5 = p5 + usize(2 * rowBytes), q6 = p6 + usize(2 * rowBytes), q7 = p7 + usize(2 * rowBytes);
              const v0 = w0 + usize(2 * runBytes);
              for (let j: usize = 0; j < usize(runBytes); j += 16) {
                const wv = v128.load(v0 + j);
                a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(q0 + j), wv));
                a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(q1 + j), wv));
                a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(q2 + j), wv));
                a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(q3 + j), wv));
                a4 = i32x4.add(a4, i32x4.dot_i16x8_s(v128.load(q4 + j), wv));
                a5 = i32x4.add(a5, i32x4.dot_i16x8_s(v128.load(q5 + j), wv));
                a6 = i32x4.add(a6, i32x4.dot_i16x8_s(v128.load(q6 + j), wv));
                a7 = i32x4.add(a7, i32x4.dot_i16x8_s(v128.load(q7 + j), wv));
              }
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
