// The requantization helper: scalar rule, hand-checked values, and the vector
// paths agreeing with the scalar rule (ties, saturation, shift > 0).
import {
  mulByQuantizedMultiplier, requantize, roundConst, unbiasConst, accBound,
  mulByQuantizedMultiplier4, mulByQuantizedMultiplier2x2, pair, finish8,
} from '../kernels/quant';

function vec4(acc: v128, M: i32, shift: i32): v128 {
  return mulByQuantizedMultiplier4(acc, i32x4.splat(M), i64x2.splat(roundConst(shift)), 31 - shift,
    i32x4.splat(unbiasConst(shift)), i32x4.splat(-accBound(shift)), i32x4.splat(accBound(shift)));
}

function finishLane0(r: v128, zp: i32, mn: i32, mx: i32): i32 {
  return i8x16.extract_lane_s(finish8(r, r, i16x8.splat(i16(zp)), i16x8.splat(i16(mn)), i16x8.splat(i16(mx))), 0);
}

describe('mulByQuantizedMultiplier', () => {
  it('rounds half toward +infinity', () => {
    expect<i64>(mulByQuantizedMultiplier(3, 1 << 30, 0)).toBe(2); // 1.5 -> 2
    expect<i64>(mulByQuantizedMultiplier(-3, 1 << 30, 0)).toBe(-1); // -1.5 -> -1
    expect<i64>(mulByQuantizedMultiplier(-5, 1 << 30, -1)).toBe(-1); // -1.25 -> -1
    expect<i64>(mulByQuantizedMultiplier(7, 1 << 30, 2)).toBe(14); // x2
  });
  it('clamps after adding the zero point', () => {
    expect<i32>(requantize(1000, 1 << 30, 0, 10, -128, 127)).toBe(127);
    expect<i32>(requantize(-1000, 1 << 30, 0, 10, 0, 127)).toBe(0);
    expect<i32>(requantize(100, 1 << 30, 0, -20, -128, 127)).toBe(30);
  });
});

describe('vector requantization', () => {
  it('matches the scalar rule lane by lane, including ties and shift > 0', () => {
    const accs: i32[] = [0, 1, -1, 3, -3, 31, -33, 12345, -12345, 65537, -70000, 0x7fffffff, -0x80000000, 1 << 20];
    const mults: i32[] = [1 << 30, 0x7fffffff, 1518500250, 1073741825, 0];
    const shifts: i32[] = [-31, -20, -8, -1, 0, 1, 2, 9, 16, 17, 18, 30];
    for (let i = 0; i < accs.length; i++) {
      for (let m = 0; m < mults.length; m++) {
        for (let s = 0; s < shifts.length; s++) {
          const acc = accs[i], M = mults[m], sh = shifts[s];
          const want = requantize(acc, M, sh, -5, -128, 127);
          const got = finishLane0(vec4(i32x4.splat(acc), M, sh), -5, -128, 127);
          expect<i32>(got).toBe(want);
        }
      }
    }
  });
  it('2x2 form keeps each half on its own shift', () => {
    const acc = i32x4(101, -101, 1001, -1001);
    const r = mulByQuantizedMultiplier2x2(acc, pair(1 << 30, 1 << 30), i64x2.splat(roundConst(0)), 31,
      i64x2.splat(roundConst(-3)), 34, pair(unbiasConst(0), unbiasConst(-3)), i32x4.splat(-0x7fffffff), i32x4.splat(0x7fffffff));
    expect<i32>(i32x4.extract_lane(r, 0)).toBe(51); // 50.5 -> 51
    expect<i32>(i32x4.extract_lane(r, 1)).toBe(-50); // -50.5 -> -50
    expect<i32>(i32x4.extract_lane(r, 2)).toBe(63); // 1001/16 = 62.56 -> 63
    expect<i32>(i32x4.extract_lane(r, 3)).toBe(-63); // -62.56 -> -63
  });
});
