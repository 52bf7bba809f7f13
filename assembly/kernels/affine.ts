// Per-channel affine (the attention gate's folded BatchNorm), a depthwise 1x1 conv:
// out[p][ch] = clamp(MBQM(w[ch] * (in[p][ch] - inZp) + bias[ch], M[ch], shift[ch]) + outZp).
// Reference: host/kernels/reference/affine.ts.
// Each lane of a 4-channel group has its own (M, shift). WebAssembly's 64-bit shifts
// take one count per vector, so each 64-bit half is shifted twice (by its two lanes'
// counts) and the right lane of each is kept. Group by group, its constants are built in
// registers and held there while the pixels pass (read from a table for every pixel and
// group instead, as this kernel did before, the call took 1.15-1.32x the time); channels
// past the last multiple of 4 use the scalar rule.
import { requantize, roundConst, unbiasConst, accBound, finish8, finish16 } from './quant';
import { fail, checkZp, checkAct, checkRequant, ERR_SHAPE, ERR_CHANNELS } from './errors';

export function affine(
  inPtr: usize, pixels: i32, c: i32, inZp: i32,
  wPtr: usize, biasPtr: usize, multPtr: usize, shiftPtr: usize,
  outZp: i32, actMin: i32, actMax: i32, outPtr: usize,
): void {
  if (pixels < 0) fail(ERR_SHAPE);
  if (c < 1) fail(ERR_CHANNELS);
  checkZp(inZp);
  checkAct(outZp, actMin, actMax);
  for (let ch = 0; ch < c; ch++) checkRequant(load<i32>(multPtr + usize(ch << 2)), load<i32>(shiftPtr + usize(ch << 2)));
  const cs = usize(c);
  const groups = c >> 2;
  const zin = i32x4.splat(inZp);
  const zpv = i16x8.splat(i16(outZp)), mn = i16x8.splat(i16(actMin)), mx = i16x8.splat(i16(actMax));
  const vecCh = usize(groups << 2);
  // four pixels a step, so that one narrowing serves four
  const quads = pixels & ~3;
  for (let g = 0; g < groups; g++) {
    const ch = usize(g << 2);
    const s0 = load<i32>(shiftPtr + (ch << 2)), s1 = load<i32>(shiftPtr + (ch << 2) + 4);
    const s2 = load<i32>(shiftPtr + (ch << 2) + 8), s3 = load<i32>(shiftPtr + (ch << 2) + 12);
    const w = i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(wPtr + ch)));
    const bias = v128.load(biasPtr + (ch << 2)), mult = v128.load(multPtr + (ch << 2));
    const rl = i64x2.replace_lane(i64x2.splat(roundConst(s0)), 1, roundConst(s1));
    const rh = i64x2.replace_lane(i64x2.splat(roundConst(s2)), 1, roundConst(s3));
    const ub = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(unbiasConst(s0)), 1, unbiasConst(s1)), 2, unbiasConst(s2)), 3, unbiasConst(s3));
    const hi = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(accBound(s0)), 1, accBound(s1)), 2, accBound(s2)), 3, accBound(s3));
    const lo = i32x4.neg(hi);
    const t0 = 31 - s0, t1 = 31 - s1, t2 = 31 - s2, t3 = 31 - s3;
    const s = inPtr + ch, d = outPtr + ch;
    let p = 0;
    for (; p < quads; p += 4) {
      const a = s + usize(p) * cs;
      const r0 = affine4(v128.load32_zero(a), zin, w, bias, lo, hi, mult, rl, rh, ub, t0, t1, t2, t3);
      const r1 = affine4(v128.load32_zero(a + cs), zin, w, bias, lo, hi, mult, rl, rh, ub, t0, t1, t2, t3);
      const r2 = affine4(v128.load32_zero(a + 2 * cs), zin, w, bias, lo, hi, mult, rl, rh, ub, t0, t1, t2, t3);
      const r3 = affine4(v128.load32_zero(a + 3 * cs), zin, w, bias, lo, hi, mult, rl, rh, ub, t0, t1, t2, t3);
      const q = finish16(r0, r1, r2, r3, zpv, mn, mx);
      const o = d + usize(p) * cs;
      v128.store32_lane(o, q, 0);
      v128.store32_lane(o + cs, q, 1);
      v128.store32_lane(o + 2 * cs, q, 2);
      v128.store32_lane(o + 3 * cs, q, 3);
    }
    for (; p < pixels; p++) {
      const r = affine4(v128.load32_zero(s + usize(p) * cs), zin, w, bias, lo, hi, mult, rl, rh, ub, t0, t1, t2, t3);
      v128.store32_lane(d + usize(p) * cs, finish8(r, r, zpv, mn, mx), 0);
    }
  }
  if (vecCh == cs) return;
  for (let p = 0; p < pixels; p++) {
    const s = inPtr + usize(p) * cs;
    const d = outPtr + usize(p) * cs;
    for (let ch = vecCh; ch < cs; ch++) {
      const acc = i32(load<i8>(wPtr + ch)) * (i32(load<i8>(s + ch)) - inZp) + load<i32>(biasPtr + (ch << 2));
      store<i8>(d + ch, requantize(acc, load<i32>(multPtr + (ch << 2)), load<i32>(shiftPtr + (ch << 2)), outZp, actMin, actMax));
    }
  }
}

/**
 * One pixel's 4 channels of a group (`x`: their 4 int8 values in the low lanes), before the
 * output zero point: MBQM(clamp(w * (x - zp) + bias), M, shift) per lane, each lane with its own
 * constants (built per group: see affine).
 */
// @ts-ignore: decorator
@inline function affine4(x: v128, zin: v128, w: v128, bias: v128, lo: v128, hi: v128, mult: v128, rl: v128, rh: v128, ub: v128, t0: i32, t1: i32, t2: i32, t3: i32): v128 {
  const xi = i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(x));
  let acc = i32x4.add(i32x4.mul(i32x4.sub(xi, zin), w), bias);
  acc = i32x4.min_s(i32x4.max_s(acc, lo), hi);
  const l = i64x2.add(i64x2.extmul_low_i32x4_s(acc, mult), rl);
  const h = i64x2.add(i64x2.extmul_high_i32x4_s(acc, mult), rh);
  const ls = v128.shuffle<i64>(i64x2.shr_u(l, t0), i64x2.shr_u(l, t1), 0, 3);
  const hs = v128.shuffle<i64>(i64x2.shr_u(h, t2), i64x2.shr_u(h, t3), 0, 3);
  return i32x4.sub(v128.shuffle<i32>(ls, hs, 0, 2, 4, 6), ub);
}
