// 1x1 convolution over compact NHWC pixels, per-channel requantization, fused clamp.
// Reference: host/kernels/reference/conv1x1.ts. Packed weights: per output channel cin
// i16 values padded with zeros to a multiple of 8; the input is widened on the
// fly (i16x8.load8x8_s, minus inZp). The last vector of a pixel reads up to 7
// bytes of the next pixel (or past the tensor: the host keeps slack there), which
// meet zero weights. Blocked over 4 pixels x 2 output channels like conv3x3.
import { roundConst, unbiasConst, accBound, mulByQuantizedMultiplier4, finish8 } from './quant';
import { fail, checkZp, checkAct, checkRequant, ERR_CHANNELS, ERR_SHAPE } from './errors';
import { hsum4 } from './conv3x3';
import { WEIGHT_RUN_LANES } from '../../host/kernels/kernel-constants';

/** i16 values of one output channel in the packed layout (host/kernels/weight-packing.ts) */
// @ts-ignore: decorator
@inline export function conv1x1Pad(cin: i32): i32 { return (cin + WEIGHT_RUN_LANES - 1) & ~(WEIGHT_RUN_LANES - 1); }

export function conv1x1(
  inPtr: usize, pixels: i32, cin: i32, inZp: i32,
  outPtr: usize, outPixelStride: i32, cout: i32,
  wPtr: usize, biasPtr: usize, multPtr: usize, shiftPtr: usize,
  outZp: i32, actMin: i32, actMax: i32,
): void {
  if (cin < 1 || cout < 1 || outPixelStride < cout) fail(ERR_CHANNELS);
  if (pixels < 0) fail(ERR_SHAPE);
  checkZp(inZp);
  checkAct(outZp, actMin, actMax);
  for (let o = 0; o < cout; o++) checkRequant(load<i32>(multPtr + usize(o << 2)), load<i32>(shiftPtr + usize(o << 2)));
  if (pixels == 0) return;

  const wBytes = conv1x1Pad(cin) << 1;
  const inZpv = i16x8.splat(i16(inZp));
  const zpv = i16x8.splat(i16(outZp));
  const mnv = i16x8.splat(i16(actMin));
  const mxv = i16x8.splat(i16(actMax));
  const ps = usize(outPixelStride);

  for (let o = 0; o < cout; o += 2) {
    const o1 = min(o + 1, cout - 1);
    const w0 = wPtr + usize(o * wBytes);
    const w1 = wPtr + usize(o1 * wBytes);
    const s0 = load<i32>(shiftPtr + usize(o << 2)), s1 = load<i32>(shiftPtr + usize(o1 << 2));
    const b0 = i32x4.splat(load<i32>(biasPtr + usize(o << 2)));
    const b1 = i32x4.splat(load<i32>(biasPtr + usize(o1 << 2)));
    const mult0 = i32x4.splat(load<i32>(multPtr + usize(o << 2))), mult1 = i32x4.splat(load<i32>(multPtr + usize(o1 << 2)));
    const rnd0 = i64x2.splat(roundConst(s0)), rnd1 = i64x2.splat(roundConst(s1));
    const t0 = 31 - s0, t1 = 31 - s1;
    const ub0 = i32x4.splat(unbiasConst(s0)), ub1 = i32x4.splat(unbiasConst(s1));
    const hi0 = i32x4.splat(accBound(s0)), hi1 = i32x4.splat(accBound(s1));
    const lo0 = i32x4.neg(hi0), lo1 = i32x4.neg(hi1);
    const second = o + 1 < cout;

    for (let p = 0; p < pixels; p += 4) {
      const nValid = min(4, pixels - p);
      const p0 = inPtr + usize(p * cin);
      const p1 = inPtr + usize(min(p + 1, pixels - 1) * cin);
      const p2 = inPtr + usize(min(p + 2, pixels - 1) * cin);
      const p3 = inPtr + usize(min(p + 3, pixels - 1) * cin);
      let a00 = i32x4.splat(0), a10 = i32x4.splat(0), a20 = i32x4.splat(0), a30 = i32x4.splat(0);
      let a01 = i32x4.splat(0), a11 = i32x4.splat(0), a21 = i32x4.splat(0), a31 = i32x4.splat(0);
      for (let c = 0; c < cin; c += 8) {
        const wv0 = v128.load(w0 + usize(c << 1));
        const wv1 = v128.load(w1 + usize(c << 1));
        let iv = i16x8.sub(v128.load8x8_s(p0 + usize(c)), inZpv);
        a00 = i32x4.add(a00, i32x4.dot_i16x8_s(iv, wv0));
        a01 = i32x4.add(a01, i32x4.dot_i16x8_s(iv, wv1));
        iv = i16x8.sub(v128.load8x8_s(p1 + usize(c)), inZpv);
        a10 = i32x4.add(a10, i32x4.dot_i16x8_s(iv, wv0));
        a11 = i32x4.add(a11, i32x4.dot_i16x8_s(iv, wv1));
        iv = i16x8.sub(v128.load8x8_s(p2 + usize(c)), inZpv);
        a20 = i32x4.add(a20, i32x4.dot_i16x8_s(iv, wv0));
        a21 = i32x4.add(a21, i32x4.dot_i16x8_s(iv, wv1));
        iv = i16x8.sub(v128.load8x8_s(p3 + usize(c)), inZpv);
        a30 = i32x4.add(a30, i32x4.dot_i16x8_s(iv, wv0));
        a31 = i32x4.add(a31, i32x4.dot_i16x8_s(iv, wv1));
      }
      const acc0 = i32x4.add(hsum4(a00, a10, a20, a30), b0);
      const acc1 = i32x4.add(hsum4(a01, a11, a21, a31), b1);
      const r0 = mulByQuantizedMultiplier4(acc0, mult0, rnd0, t0, ub0, lo0, hi0);
      const r1 = mulByQuantizedMultiplier4(acc1, mult1, rnd1, t1, ub1, lo1, hi1);
      const q = finish8(r0, r1, zpv, mnv, mxv);
      const d = outPtr + usize(p) * ps + usize(o);
      v128.store8_lane(d, q, 0);
      if (second) v128.store8_lane(d + 1, q, 4);
      if (nValid > 1) { v128.store8_lane(d + ps, q, 1); if (second) v128.store8_lane(d + ps + 1, q, 5); }
      if (nValid > 2) { v128.store8_lane(d + 2 * ps, q, 2); if (second) v128.store8_lane(d + 2 * ps + 1, q, 6); }
      if (nValid > 3) { v128.store8_lane(d + 3 * ps, q, 3); if (second) v128.store8_lane(d + 3 * ps + 1, q, 7); }
    }
  }
}
