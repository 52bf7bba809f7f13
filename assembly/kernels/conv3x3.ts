// 3x3 convolution, stride 1 or 2, explicit top/left padding (bottom/right follow
// from the output size), per-channel requantization, fused clamp.
// Reference: host/reference/conv3x3.ts.
//
// Method. Input rows are widened once per band into scratch as i16 (x - inZp),
// with padding columns/rows written as 0, so padding contributes exactly 0 and
// the inner loop has no borders and no zero-point work. In scratch the 3 input
// pixels under a kernel row are contiguous (3*cin values), and the packed weights
// keep, per output channel and kernel row, the same 3*cin values as i16 padded
// with zeros to a multiple of 8 (runPad). So one kernel row of one output is a
// dot product of runPad/8 i16x8 vectors: i32x4.dot_i16x8_s. The core is
// register-blocked over 4 output pixels x 2 output channels: each input vector is
// loaded once for 2 channels, each weight vector once for 4 pixels.
// Loop order: band of rows (input widened once) -> channel pair (weights stay in
// L1) -> row -> 4 pixels. Lanes of the reduced sums are the 4 pixels of one
// channel, so one (M, shift) applies to the whole vector.
import { roundConst, unbiasConst, accBound, mulByQuantizedMultiplier4, finish8 } from './quant';
import { fail, checkZp, checkAct, checkRequant, ERR_STRIDE, ERR_PADDING, ERR_SHAPE, ERR_SCRATCH, ERR_CHANNELS } from './errors';
import { scratchBase, scratchSize } from './scratch';

/** i16 values per kernel row of one output channel in the packed layout */
// @ts-ignore: decorator
@inline export function convRunPad(cin: i32): i32 { return (3 * cin + 7) & ~7; }

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
  const sbase = scratchBase();
  const ssize = i32(scratchSize());

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

      for (let o = 0; o < cout; o += 6) {
        const o0 = o;
        const w0 = wPtr + usize(o0 * wBytes);
        const s0 = load<i32>(shiftPtr + usize(o0 << 2));
        const b0 = i32x4.splat(load<i32>(biasPtr + usize(o0 << 2)));
        const mult0 = i32x4.splat(load<i32>(multPtr + usize(o0 << 2)));
        const rnd0 = i64x2.splat(roundConst(s0)), t0 = 31 - s0, ub0 = i32x4.splat(unbiasConst(s0));
        const hi0 = i32x4.splat(accBound(s0)), lo0 = i32x4.neg(hi0);
        const o1 = min(o + 1, cout - 1);
        const w1 = wPtr + usize(o1 * wBytes);
        const s1 = load<i32>(shiftPtr + usize(o1 << 2));
        const b1 = i32x4.splat(load<i32>(biasPtr + usize(o1 << 2)));
        const mult1 = i32x4.splat(load<i32>(multPtr + usize(o1 << 2)));
        const rnd1 = i64x2.splat(roundConst(s1)), t1 = 31 - s1, ub1 = i32x4.splat(unbiasConst(s1));
        const hi1 = i32x4.splat(accBound(s1)), lo1 = i32x4.neg(hi1);
        const o2 = min(o + 2, cout - 1);
        const w2 = wPtr + usize(o2 * wBytes);
        const s2 = load<i32>(shiftPtr + usize(o2 << 2));
        const b2 = i32x4.splat(load<i32>(biasPtr + usize(o2 << 2)));
        const mult2 = i32x4.splat(load<i32>(multPtr + usize(o2 << 2)));
        const rnd2 = i64x2.splat(roundConst(s2)), t2 = 31 - s2, ub2 = i32x4.splat(unbiasConst(s2));
        const hi2 = i32x4.splat(accBound(s2)), lo2 = i32x4.neg(hi2);
        const o3 = min(o + 3, cout - 1);
        const w3 = wPtr + usize(o3 * wBytes);
        const s3 = load<i32>(shiftPtr + usize(o3 << 2));
        const b3 = i32x4.splat(load<i32>(biasPtr + usize(o3 << 2)));
        const mult3 = i32x4.splat(load<i32>(multPtr + usize(o3 << 2)));
        const rnd3 = i64x2.splat(roundConst(s3)), t3 = 31 - s3, ub3 = i32x4.splat(unbiasConst(s3));
        const hi3 = i32x4.splat(accBound(s3)), lo3 = i32x4.neg(hi3);
        const o4 = min(o + 4, cout - 1);
        const w4 = wPtr + usize(o4 * wBytes);
        const s4 = load<i32>(shiftPtr + usize(o4 << 2));
        const b4 = i32x4.splat(load<i32>(biasPtr + usize(o4 << 2)));
        const mult4 = i32x4.splat(load<i32>(multPtr + usize(o4 << 2)));
        const rnd4 = i64x2.splat(roundConst(s4)), t4 = 31 - s4, ub4 = i32x4.splat(unbiasConst(s4));
        const hi4 = i32x4.splat(accBound(s4)), lo4 = i32x4.neg(hi4);
        const o5 = min(o + 5, cout - 1);
        const w5 = wPtr + usize(o5 * wBytes);
        const s5 = load<i32>(shiftPtr + usize(o5 << 2));
        const b5 = i32x4.splat(load<i32>(biasPtr + usize(o5 << 2)));
        const mult5 = i32x4.splat(load<i32>(multPtr + usize(o5 << 2)));
        const rnd5 = i64x2.splat(roundConst(s5)), t5 = 31 - s5, ub5 = i32x4.splat(unbiasConst(s5));
        const hi5 = i32x4.splat(accBound(s5)), lo5 = i32x4.neg(hi5);
        const nCh = min(6, cout - o);
        for (let y = y0; y < y1; y++) {
          const rowBase = sbase + usize(y - y0) * rowStep;
          const outRow = outPtr + usize(y * outW * outPixelStride + o);
          for (let x = x0; x < x1; x += 2) {
            const nValid = min(2, x1 - x);
            const p0 = rowBase + usize(x - x0) * pxStep;
            const p1 = rowBase + usize(min(x + 1, x1 - 1) - x0) * pxStep;
            let a00 = i32x4.splat(0); let a01 = i32x4.splat(0); let a02 = i32x4.splat(0); let a03 = i32x4.splat(0); let a04 = i32x4.splat(0); let a05 = i32x4.splat(0);
            let a10 = i32x4.splat(0); let a11 = i32x4.splat(0); let a12 = i32x4.splat(0); let a13 = i32x4.splat(0); let a14 = i32x4.splat(0); let a15 = i32x4.splat(0);
            for (let ky = 0; ky < 3; ky++) {
              const ro = usize(ky * rowBytes);
              const wo = usize(ky * runBytes);
              const q0 = p0 + ro; const q1 = p1 + ro;
              const v0 = w0 + wo; const v1 = w1 + wo; const v2 = w2 + wo; const v3 = w3 + wo; const v4 = w4 + wo; const v5 = w5 + wo;
              for (let j: usize = 0; j < usize(runBytes); j += 16) {
                const iv0 = v128.load(q0 + j);
                const iv1 = v128.load(q1 + j);
                let wv = v128.load(v0 + j);
                a00 = i32x4.add(a00, i32x4.dot_i16x8_s(iv0, wv));
                a10 = i32x4.add(a10, i32x4.dot_i16x8_s(iv1, wv));
                wv = v128.load(v1 + j);
                a01 = i32x4.add(a01, i32x4.dot_i16x8_s(iv0, wv));
                a11 = i32x4.add(a11, i32x4.dot_i16x8_s(iv1, wv));
                wv = v128.load(v2 + j);
                a02 = i32x4.add(a02, i32x4.dot_i16x8_s(iv0, wv));
                a12 = i32x4.add(a12, i32x4.dot_i16x8_s(iv1, wv));
                wv = v128.load(v3 + j);
                a03 = i32x4.add(a03, i32x4.dot_i16x8_s(iv0, wv));
                a13 = i32x4.add(a13, i32x4.dot_i16x8_s(iv1, wv));
                wv = v128.load(v4 + j);
                a04 = i32x4.add(a04, i32x4.dot_i16x8_s(iv0, wv));
                a14 = i32x4.add(a14, i32x4.dot_i16x8_s(iv1, wv));
                wv = v128.load(v5 + j);
                a05 = i32x4.add(a05, i32x4.dot_i16x8_s(iv0, wv));
                a15 = i32x4.add(a15, i32x4.dot_i16x8_s(iv1, wv));
              }
            }
            const r0_0 = mulByQuantizedMultiplier4(i32x4.add(hsum4(a00, a10, i32x4.splat(0), i32x4.splat(0)), b0), mult0, rnd0, t0, ub0, lo0, hi0);
            const r1_0 = mulByQuantizedMultiplier4(i32x4.add(hsum4(a01, a11, i32x4.splat(0), i32x4.splat(0)), b1), mult1, rnd1, t1, ub1, lo1, hi1);
            const r2_0 = mulByQuantizedMultiplier4(i32x4.add(hsum4(a02, a12, i32x4.splat(0), i32x4.splat(0)), b2), mult2, rnd2, t2, ub2, lo2, hi2);
            const r3_0 = mulByQuantizedMultiplier4(i32x4.add(hsum4(a03, a13, i32x4.splat(0), i32x4.splat(0)), b3), mult3, rnd3, t3, ub3, lo3, hi3);
            const r4_0 = mulByQuantizedMultiplier4(i32x4.add(hsum4(a04, a14, i32x4.splat(0), i32x4.splat(0)), b4), mult4, rnd4, t4, ub4, lo4, hi4);
            const r5_0 = mulByQuantizedMultiplier4(i32x4.add(hsum4(a05, a15, i32x4.splat(0), i32x4.splat(0)), b5), mult5, rnd5, t5, ub5, lo5, hi5);
            const ps = usize(outPixelStride);
            const d = outRow + usize(x) * ps;
            const q0_0 = finish8(r0_0, r1_0, zpv, mnv, mxv);
            if (true) { v128.store8_lane(d + 0 * ps + 0, q0_0, 0); if (nCh > 1) v128.store8_lane(d + 0 * ps + 1, q0_0, 4); }
            if (nValid > 1) { v128.store8_lane(d + 1 * ps + 0, q0_0, 1); if (nCh > 1) v128.store8_lane(d + 1 * ps + 1, q0_0, 5); }
            const q2_0 = finish8(r2_0, r3_0, zpv, mnv, mxv);
            if (true) { if (nCh > 2) v128.store8_lane(d + 0 * ps + 2, q2_0, 0); if (nCh > 3) v128.store8_lane(d + 0 * ps + 3, q2_0, 4); }
            if (nValid > 1) { if (nCh > 2) v128.store8_lane(d + 1 * ps + 2, q2_0, 1); if (nCh > 3) v128.store8_lane(d + 1 * ps + 3, q2_0, 5); }
            const q4_0 = finish8(r4_0, r5_0, zpv, mnv, mxv);
            if (true) { if (nCh > 4) v128.store8_lane(d + 0 * ps + 4, q4_0, 0); if (nCh > 5) v128.store8_lane(d + 0 * ps + 5, q4_0, 4); }
            if (nValid > 1) { if (nCh > 4) v128.store8_lane(d + 1 * ps + 4, q4_0, 1); if (nCh > 5) v128.store8_lane(d + 1 * ps + 5, q4_0, 5); }
          }
        }
      }
    }
  }
}
