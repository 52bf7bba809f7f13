// The one requantization helper every kernel uses (docs/quantization.md).
// Rule (TFLite single rounding): total = 31 - shift,
//   r = (i64(acc) * M + (1 << (total - 1))) >> total   (arithmetic: round half up)
//   out = clamp(r + outZp, actMin, actMax)
// Input ranges: acc any i32; M in [0, 2^31); shift in [-31, 30]; outZp, actMin,
// actMax in [-128, 127] with actMin <= actMax (checked by the kernels' callers).
// see: tensorflow/lite/kernels/internal/common.h (MultiplyByQuantizedMultiplier, single rounding)

/** Exact scalar product-and-shift (no clamping); any i32 acc. */
// @ts-ignore: decorator
@inline export function mulByQuantizedMultiplier(acc: i32, M: i32, shift: i32): i64 {
  const total = 31 - shift;
  return (i64(acc) * i64(M) + (i64(1) << i64(total - 1))) >> i64(total);
}

/** Scalar requantize + zero point + clamp: the specification the vector path must match. */
// @ts-ignore: decorator
@inline export function requantize(acc: i32, M: i32, shift: i32, outZp: i32, actMin: i32, actMax: i32): i32 {
  let v = mulByQuantizedMultiplier(acc, M, shift) + i64(outZp);
  if (v < i64(actMin)) v = i64(actMin);
  if (v > i64(actMax)) v = i64(actMax);
  return i32(v);
}

/*
 * Vector form. The 4-lane path computes floor((acc*M + 2^(t-1) + 2^62) / 2^t)
 * with a LOGICAL 64-bit shift (x64 has no 64-bit arithmetic vector shift) and
 * removes the 2^(62-t) offset in 32-bit wrap-around arithmetic; floors compose
 * exactly, so this equals the arithmetic shift whenever the result fits in i32,
 * which holds for shift <= 0. When shift > 0, acc is first clamped to
 * +-accBound(shift), chosen so that any larger |acc| gives |r| >= 2^16 anyway:
 * after the i16 saturation in finish8/finish16 the int8 result is the same.
 * Per (M, shift) the caller precomputes: mult = splat(M), round = splat64(roundConst),
 * total, unbias = splat(unbiasConst), lo/hi = splat(-+accBound).
 */

// @ts-ignore: decorator
@inline export function roundConst(shift: i32): i64 {
  return (i64(1) << i64(30 - shift)) + (i64(1) << 62);
}

/** 2^(62 - total) modulo 2^32 */
// @ts-ignore: decorator
@inline export function unbiasConst(shift: i32): i32 {
  return i32(i64(1) << i64(31 + shift));
}

// @ts-ignore: decorator
@inline export function accBound(shift: i32): i32 {
  return shift <= 0 ? 0x7fffffff : shift >= 17 ? 1 : 1 << (17 - shift);
}

/** Four lanes sharing one (M, shift). */
// @ts-ignore: decorator
@inline export function mulByQuantizedMultiplier4(acc: v128, mult: v128, round: v128, total: i32, unbias: v128, lo: v128, hi: v128): v128 {
  const a = i32x4.min_s(i32x4.max_s(acc, lo), hi);
  const l = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(a, mult), round), total);
  const h = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(a, mult), round), total);
  return i32x4.sub(v128.shuffle<i32>(l, h, 0, 2, 4, 6), unbias);
}

/**
 * Two vectors of requantized i32 values to eight int8 lanes (lanes 0..7, repeated in 8..15):
 * saturate to i16, add the zero point (saturating), clamp, narrow. Equal to
 * clamp(r + zp) for any i32 r because the clamp range lies inside [-128, 127].
 */
// @ts-ignore: decorator
@inline export function finish8(r0: v128, r1: v128, zp: v128, mn: v128, mx: v128): v128 {
  let s = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r0, r1), zp);
  s = i16x8.min_s(i16x8.max_s(s, mn), mx);
  return i8x16.narrow_i16x8_s(s, s);
}

/** Sixteen lanes: four requantized i32 vectors to one int8 vector. */
// @ts-ignore: decorator
@inline export function finish16(r0: v128, r1: v128, r2: v128, r3: v128, zp: v128, mn: v128, mx: v128): v128 {
  let s0 = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r0, r1), zp);
  let s1 = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r2, r3), zp);
  s0 = i16x8.min_s(i16x8.max_s(s0, mn), mx);
  s1 = i16x8.min_s(i16x8.max_s(s1, mn), mx);
  return i8x16.narrow_i16x8_s(s0, s1);
}

/**
 * Four lanes holding two (M, shift) pairs: lanes 0-1 use (roundLo, tLo), lanes 2-3
 * (roundHi, tHi); mult, unbias, lo and hi carry each lane's own value. Each 64-bit
 * half keeps one shift, so the vector shifts stay uniform per half.
 */
// @ts-ignore: decorator
@inline export function mulByQuantizedMultiplier2x2(acc: v128, mult: v128, roundLo: v128, tLo: i32, roundHi: v128, tHi: i32, unbias: v128, lo: v128, hi: v128): v128 {
  const a = i32x4.min_s(i32x4.max_s(acc, lo), hi);
  const l = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(a, mult), roundLo), tLo);
  const h = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(a, mult), roundHi), tHi);
  return i32x4.sub(v128.shuffle<i32>(l, h, 0, 2, 4, 6), unbias);
}

/** [x, x, y, y] */
// @ts-ignore: decorator
@inline export function pair(x: i32, y: i32): v128 {
  return v128.shuffle<i32>(i32x4.splat(x), i32x4.splat(y), 0, 1, 4, 5);
}

/** bytes of one group's requantization constants (requantParams) */
export const PARAM_BYTES = 208;

/**
 * The requantization constants of output channels o..o+3 (the last ones repeated past cout) at dst:
 * 12 v128 (bias, multiplier, round, unbias, bound pairs laid as the lanes [x c, x+1 c, x c', x+1 c'])
 * and the 4 shift totals.
 */
export function requantParams(dst: usize, o: i32, cout: i32, biasPtr: usize, multPtr: usize, shiftPtr: usize): void {
  const o1 = min(o + 1, cout - 1), o2 = min(o + 2, cout - 1), o3 = min(o + 3, cout - 1);
  const s0 = load<i32>(shiftPtr + usize(o << 2)), s1 = load<i32>(shiftPtr + usize(o1 << 2));
  const s2 = load<i32>(shiftPtr + usize(o2 << 2)), s3 = load<i32>(shiftPtr + usize(o3 << 2));
  v128.store(dst, pair(load<i32>(biasPtr + usize(o << 2)), load<i32>(biasPtr + usize(o1 << 2))));
  v128.store(dst, pair(load<i32>(biasPtr + usize(o2 << 2)), load<i32>(biasPtr + usize(o3 << 2))), 16);
  v128.store(dst, pair(load<i32>(multPtr + usize(o << 2)), load<i32>(multPtr + usize(o1 << 2))), 32);
  v128.store(dst, pair(load<i32>(multPtr + usize(o2 << 2)), load<i32>(multPtr + usize(o3 << 2))), 48);
  v128.store(dst, i64x2.splat(roundConst(s0)), 64);
  v128.store(dst, i64x2.splat(roundConst(s1)), 80);
  v128.store(dst, i64x2.splat(roundConst(s2)), 96);
  v128.store(dst, i64x2.splat(roundConst(s3)), 112);
  v128.store(dst, pair(unbiasConst(s0), unbiasConst(s1)), 128);
  v128.store(dst, pair(unbiasConst(s2), unbiasConst(s3)), 144);
  v128.store(dst, pair(accBound(s0), accBound(s1)), 160);
  v128.store(dst, pair(accBound(s2), accBound(s3)), 176);
  store<i32>(dst, 31 - s0, 192);
  store<i32>(dst, 31 - s1, 196);
  store<i32>(dst, 31 - s2, 200);
  store<i32>(dst, 31 - s3, 204);
}

/**
 * Two neighbouring pixels' sums (y0: pixel x, y1: pixel x+1; lanes = 4 output channels):
 * + bias, requantized with the constants at rq (requantParams), clamped and stored at d
 * (nOut channels; pixel x+1 at d + ps if `right`).
 */
// @ts-ignore: decorator
@inline export function outputPair(y0: v128, y1: v128, rq: usize, d: usize, ps: usize, nOut: i32, right: bool, zpv: v128, mnv: v128, mxv: v128): void {
  const loA = i32x4.neg(v128.load(rq, 160)), loB = i32x4.neg(v128.load(rq, 176));
  // lanes [x o, x+1 o, x o1, x+1 o1] and [.. o2, .. o3]: one shift per 64-bit half
  const rA = mulByQuantizedMultiplier2x2(i32x4.add(v128.shuffle<i32>(y0, y1, 0, 4, 1, 5), v128.load(rq)), v128.load(rq, 32),
    v128.load(rq, 64), load<i32>(rq, 192), v128.load(rq, 80), load<i32>(rq, 196), v128.load(rq, 128), loA, v128.load(rq, 160));
  const rB = mulByQuantizedMultiplier2x2(i32x4.add(v128.shuffle<i32>(y0, y1, 2, 6, 3, 7), v128.load(rq, 16)), v128.load(rq, 48),
    v128.load(rq, 96), load<i32>(rq, 200), v128.load(rq, 112), load<i32>(rq, 204), v128.load(rq, 144), loB, v128.load(rq, 176));
  // int8 lanes [x o..o3, x+1 o..o3]
  storePixels(d, ps, i8x16.shuffle(finish8(rA, rB, zpv, mnv, mxv), zpv, 0, 2, 4, 6, 1, 3, 5, 7, 0, 0, 0, 0, 0, 0, 0, 0), nOut, right);
}

/** Store the int8 lanes [pixel x: 4 channels, pixel x+1: 4 channels] (nOut channels, the second pixel if `right`). */
// @ts-ignore: decorator
@inline function storePixels(d: usize, ps: usize, q: v128, nOut: i32, right: bool): void {
  if (nOut == 4) {
    v128.store32_lane(d, q, 0);
    if (right) v128.store32_lane(d + ps, q, 1);
  } else {
    v128.store8_lane(d, q, 0);
    if (nOut > 1) v128.store8_lane(d + 1, q, 1);
    if (nOut > 2) v128.store8_lane(d + 2, q, 2);
    if (right) {
      v128.store8_lane(d + ps, q, 4);
      if (nOut > 1) v128.store8_lane(d + ps + 1, q, 5);
      if (nOut > 2) v128.store8_lane(d + ps + 2, q, 6);
    }
  }
}
