// TFLite int8 element-wise ADD (see tensorflow/lite/kernels/internal/reference/integer_ops/add.h):
//   a' = MBQM((a - aZp) << leftShift, aMult, aShift), b' likewise,
//   out = clamp(MBQM(a' + b', outMult, outShift) + outZp).
// Reference: host/kernels/reference/add.ts. Contract: leftShift in [0, 23] (so the shifted
// value fits i32), aShift and bShift <= 0 (input multipliers below 1, as
// models/quant-math.ts quantizeAddParams produces) so a' and b' are exact i32.
import { requantize, mulByQuantizedMultiplier, roundConst, unbiasConst, accBound, mulByQuantizedMultiplier4, finish16 } from './quant';
import { fail, checkZp, checkAct, checkRequant, ERR_SHAPE, ERR_SHIFT } from './errors';

export function add(
  aPtr: usize, bPtr: usize, n: i32, aZp: i32, bZp: i32, leftShift: i32,
  aMult: i32, aShift: i32, bMult: i32, bShift: i32,
  outMult: i32, outShift: i32, outZp: i32, actMin: i32, actMax: i32,
  outPtr: usize,
): void {
  if (n < 0) fail(ERR_SHAPE);
  if (leftShift < 0 || leftShift > 23 || aShift > 0 || bShift > 0) fail(ERR_SHIFT);
  checkZp(aZp);
  checkZp(bZp);
  checkAct(outZp, actMin, actMax);
  checkRequant(aMult, aShift);
  checkRequant(bMult, bShift);
  checkRequant(outMult, outShift);

  const azv = i16x8.splat(i16(aZp)), bzv = i16x8.splat(i16(bZp));
  const am = i32x4.splat(aMult), ar = i64x2.splat(roundConst(aShift)), at = 31 - aShift, au = i32x4.splat(unbiasConst(aShift));
  const bm = i32x4.splat(bMult), br = i64x2.splat(roundConst(bShift)), bt = 31 - bShift, bu = i32x4.splat(unbiasConst(bShift));
  const om = i32x4.splat(outMult), or = i64x2.splat(roundConst(outShift)), ot = 31 - outShift, ou = i32x4.splat(unbiasConst(outShift));
  const ohi = i32x4.splat(accBound(outShift)), olo = i32x4.neg(ohi);
  const nolo = i32x4.splat(-0x7fffffff), nohi = i32x4.splat(0x7fffffff); // shift <= 0: no clamp needed
  const zpv = i16x8.splat(i16(outZp)), mn = i16x8.splat(i16(actMin)), mx = i16x8.splat(i16(actMax));
  const ls = leftShift;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const va = v128.load(aPtr + usize(i));
    const vb = v128.load(bPtr + usize(i));
    const al = i16x8.sub(i16x8.extend_low_i8x16_s(va), azv), ah = i16x8.sub(i16x8.extend_high_i8x16_s(va), azv);
    const bl = i16x8.sub(i16x8.extend_low_i8x16_s(vb), bzv), bh = i16x8.sub(i16x8.extend_high_i8x16_s(vb), bzv);
    const s0 = i32x4.add(
      mulByQuantizedMultiplier4(i32x4.shl(i32x4.extend_low_i16x8_s(al), ls), am, ar, at, au, nolo, nohi),
      mulByQuantizedMultiplier4(i32x4.shl(i32x4.extend_low_i16x8_s(bl), ls), bm, br, bt, bu, nolo, nohi));
    const s1 = i32x4.add(
      mulByQuantizedMultiplier4(i32x4.shl(i32x4.extend_high_i16x8_s(al), ls), am, ar, at, au, nolo, nohi),
      mulByQuantizedMultiplier4(i32x4.shl(i32x4.extend_high_i16x8_s(bl), ls), bm, br, bt, bu, nolo, nohi));
    const s2 = i32x4.add(
      mulByQuantizedMultiplier4(i32x4.shl(i32x4.extend_low_i16x8_s(ah), ls), am, ar, at, au, nolo, nohi),
      mulByQuantizedMultiplier4(i32x4.shl(i32x4.extend_low_i16x8_s(bh), ls), bm, br, bt, bu, nolo, nohi));
    const s3 = i32x4.add(
      mulByQuantizedMultiplier4(i32x4.shl(i32x4.extend_high_i16x8_s(ah), ls), am, ar, at, au, nolo, nohi),
      mulByQuantizedMultiplier4(i32x4.shl(i32x4.extend_high_i16x8_s(bh), ls), bm, br, bt, bu, nolo, nohi));
    v128.store(outPtr + usize(i), finish16(
      mulByQuantizedMultiplier4(s0, om, or, ot, ou, olo, ohi),
      mulByQuantizedMultiplier4(s1, om, or, ot, ou, olo, ohi),
      mulByQuantizedMultiplier4(s2, om, or, ot, ou, olo, ohi),
      mulByQuantizedMultiplier4(s3, om, or, ot, ou, olo, ohi), zpv, mn, mx));
  }
  for (; i < n; i++) {
    const a = i32(mulByQuantizedMultiplier((i32(load<i8>(aPtr + usize(i))) - aZp) << ls, aMult, aShift));
    const b = i32(mulByQuantizedMultiplier((i32(load<i8>(bPtr + usize(i))) - bZp) << ls, bMult, bShift));
    store<i8>(outPtr + usize(i), requantize(a + b, outMult, outShift, outZp, actMin, actMax));
  }
}
