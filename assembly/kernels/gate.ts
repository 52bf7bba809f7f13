// Attention-gate multiply with the nearest x2 upsample of the gate fused in:
// out[y][x][ch] = clamp(MBQM((a[y>>1][x>>1] + 128) * (skip[y][x][ch] - skipZp)) + outZp).
// Reference: host/kernels/reference/gate.ts. `a` is a sigmoid output (zero point -128), so
// a + 128 is in [0, 255] and the product fits easily in i32.
import { requantize, roundConst, unbiasConst, accBound, mulByQuantizedMultiplier4, finish16 } from './quant';
import { fail, checkZp, checkAct, checkRequant, ERR_SHAPE, ERR_CHANNELS } from './errors';

export function gateMul(
  aPtr: usize, skipPtr: usize, h: i32, w: i32, c: i32, skipZp: i32,
  mult: i32, shift: i32, outZp: i32, actMin: i32, actMax: i32,
  outPtr: usize,
): void {
  if (h < 0 || w < 0) fail(ERR_SHAPE);
  if (c < 1) fail(ERR_CHANNELS);
  checkZp(skipZp);
  checkAct(outZp, actMin, actMax);
  checkRequant(mult, shift);
  const aw = (w + 1) >> 1;
  const cs = usize(c);
  const zs = i16x8.splat(i16(skipZp));
  const mv = i32x4.splat(mult);
  const rnd = i64x2.splat(roundConst(shift));
  const t = 31 - shift;
  const ub = i32x4.splat(unbiasConst(shift));
  const hi = i32x4.splat(accBound(shift));
  const lo = i32x4.neg(hi);
  const zpv = i16x8.splat(i16(outZp)), mn = i16x8.splat(i16(actMin)), mx = i16x8.splat(i16(actMax));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const g = i32(load<i8>(aPtr + usize((y >> 1) * aw + (x >> 1)))) + 128;
      const gv = i16x8.splat(i16(g));
      const off = usize(y * w + x) * cs;
      const s = skipPtr + off;
      const d = outPtr + off;
      let ch: usize = 0;
      for (; ch + 16 <= cs; ch += 16) {
        const v = v128.load(s + ch);
        const l = i16x8.sub(i16x8.extend_low_i8x16_s(v), zs);
        const hh = i16x8.sub(i16x8.extend_high_i8x16_s(v), zs);
        v128.store(d + ch, finish16(
          mulByQuantizedMultiplier4(i32x4.extmul_low_i16x8_s(l, gv), mv, rnd, t, ub, lo, hi),
          mulByQuantizedMultiplier4(i32x4.extmul_high_i16x8_s(l, gv), mv, rnd, t, ub, lo, hi),
          mulByQuantizedMultiplier4(i32x4.extmul_low_i16x8_s(hh, gv), mv, rnd, t, ub, lo, hi),
          mulByQuantizedMultiplier4(i32x4.extmul_high_i16x8_s(hh, gv), mv, rnd, t, ub, lo, hi), zpv, mn, mx));
      }
      for (; ch < cs; ch++) {
        store<i8>(d + ch, requantize(g * (i32(load<i8>(s + ch)) - skipZp), mult, shift, outZp, actMin, actMax));
      }
    }
  }
}
