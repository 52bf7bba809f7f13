// One input of a channel concat: requantize to the output's scale and zero point
// and write into the output's channel slice. Reference: host/kernels/reference/concat.ts.
// A plain copy when the requantization is the identity (M = 2^30, shift 1, equal zero points).
// Else 32-bit arithmetic where the shift allows it (docs/quantization.md), 64-bit products otherwise.
import { requantize, roundConst, unbiasConst, accBound, mulByQuantizedMultiplier4, finish16 } from './quant';
import { fail, checkZp, checkRequant, ERR_SHAPE, ERR_CHANNELS } from './errors';

export function requantCopy(
  inPtr: usize, pixels: i32, c: i32, inZp: i32,
  mult: i32, shift: i32, outZp: i32,
  outPtr: usize, outPixelStride: i32,
): void {
  if (pixels < 0) fail(ERR_SHAPE);
  if (c < 1 || outPixelStride < c) fail(ERR_CHANNELS);
  checkZp(inZp);
  checkZp(outZp);
  checkRequant(mult, shift);
  const cs = usize(c);
  const ps = usize(outPixelStride);
  if (mult == 1 << 30 && shift == 1 && inZp == outZp) {
    if (ps == cs) memory.copy(outPtr, inPtr, usize(pixels) * cs);
    else for (let p = 0; p < pixels; p++) memory.copy(outPtr + usize(p) * ps, inPtr + usize(p) * cs, cs);
    return;
  }
  // contiguous output: treat as one row of pixels*c values
  let rows = pixels, n = cs;
  if (ps == cs) { rows = 1; n = usize(pixels) * cs; }
  const inStep = ps == cs ? n : cs;
  const outStep = ps == cs ? n : ps;

  const zpIn = i16x8.splat(i16(inZp));
  const mv = i32x4.splat(mult);
  const rnd = i64x2.splat(roundConst(shift));
  const t = 31 - shift;
  const ub = i32x4.splat(unbiasConst(shift));
  const hi = i32x4.splat(accBound(shift));
  const lo = i32x4.neg(hi);
  const zpv = i16x8.splat(i16(outZp));
  const mn = i16x8.splat(-128), mx = i16x8.splat(127);
  // |x - inZp| <= 255 (9 bits): for 17 <= t <= 46 (scale ratios from 2^-16 up to 2^14) the
  // product splits exactly into 32-bit parts, M = mh*2^16 + ml:
  //   floor((acc*M + 2^(t-1)) / 2^t) = (acc*mh + 2^(t-17) + ((acc*ml) >> 16)) >> (t-16),
  // each term within 2^30: busi-lite's concats 1.4x faster than with the 64-bit products. A loop
  // of its own: choosing per vector inside the one loop below lost all of it (measured).
  const small = t >= 17 && t <= 46;
  const mh = i32x4.splat(mult >> 16), ml = i32x4.splat(mult & 0xffff);
  const half = i32x4.splat(small ? 1 << (t - 17) : 0);
  const t16 = t - 16;
  for (let r = 0; r < rows; r++) {
    const s = inPtr + usize(r) * inStep;
    const d = outPtr + usize(r) * outStep;
    let i: usize = 0;
    if (small) {
      for (; i + 16 <= n; i += 16) {
        const v = v128.load(s + i);
        const l = i16x8.sub(i16x8.extend_low_i8x16_s(v), zpIn);
        const h = i16x8.sub(i16x8.extend_high_i8x16_s(v), zpIn);
        const r0 = mul9(i32x4.extend_low_i16x8_s(l), mh, ml, half, t16);
        const r1 = mul9(i32x4.extend_high_i16x8_s(l), mh, ml, half, t16);
        const r2 = mul9(i32x4.extend_low_i16x8_s(h), mh, ml, half, t16);
        const r3 = mul9(i32x4.extend_high_i16x8_s(h), mh, ml, half, t16);
        v128.store(d + i, finish16(r0, r1, r2, r3, zpv, mn, mx));
      }
    }
    for (; i + 16 <= n; i += 16) {
      const v = v128.load(s + i);
      const l = i16x8.sub(i16x8.extend_low_i8x16_s(v), zpIn);
      const h = i16x8.sub(i16x8.extend_high_i8x16_s(v), zpIn);
      const r0 = mulByQuantizedMultiplier4(i32x4.extend_low_i16x8_s(l), mv, rnd, t, ub, lo, hi);
      const r1 = mulByQuantizedMultiplier4(i32x4.extend_high_i16x8_s(l), mv, rnd, t, ub, lo, hi);
      const r2 = mulByQuantizedMultiplier4(i32x4.extend_low_i16x8_s(h), mv, rnd, t, ub, lo, hi);
      const r3 = mulByQuantizedMultiplier4(i32x4.extend_high_i16x8_s(h), mv, rnd, t, ub, lo, hi);
      v128.store(d + i, finish16(r0, r1, r2, r3, zpv, mn, mx));
    }
    for (; i < n; i++) store<i8>(d + i, requantize(i32(load<i8>(s + i)) - inZp, mult, shift, outZp, -128, 127));
  }
}

/** floor((acc*M + 2^(t-1)) / 2^t) for |acc| <= 255 and 17 <= t <= 46, in 32-bit lanes (see requantCopy) */
// @ts-ignore: decorator
@inline function mul9(acc: v128, mh: v128, ml: v128, half: v128, t16: i32): v128 {
  return i32x4.shr_s(i32x4.add(i32x4.add(i32x4.mul(acc, mh), half), i32x4.shr_s(i32x4.mul(acc, ml), 16)), t16);
}
