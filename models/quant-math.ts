// Offline quantization arithmetic shared by the quantizer, the integer
// reference and the tests: float scale -> (Q31 multiplier, shift), the exact
// single-rounding requantization, the sigmoid lookup table and the TFLite
// int8 ADD parameters. The WASM kernels (assembly/kernels/quant.ts) implement
// the same requantization; docs/quantization.md states the contract.
// see: tensorflow/lite/kernels/internal/quantization_util.cc (QuantizeMultiplier),
//      common.h (MultiplyByQuantizedMultiplier, TFLITE_SINGLE_ROUNDING; LUTPopulateInt8),
//      tensorflow/lite/kernels/add.cc (PrepareGeneralSubOp / int8 ADD).
import type { Requant } from './qmodel.js';

const TWO31 = 2 ** 31;

/**
 * frexp-style decomposition: real = multiplier * 2^(shift - 31), multiplier a
 * Q31 value in [2^30, 2^31). Zero (and values too small for shift >= -31) give
 * {0, 0}; values too large for shift <= 30 saturate to {2^31 - 1, 30}.
 */
export function quantizeMultiplier(realMultiplier: number): Requant {
  if (!Number.isFinite(realMultiplier) || realMultiplier < 0) {
    throw new RangeError(`quantizeMultiplier: multiplier must be a finite number >= 0, got ${realMultiplier}`);
  }
  if (realMultiplier === 0 || realMultiplier < 2 ** -33) return { multiplier: 0, shift: 0 };
  // frexp: realMultiplier = q * 2^e with q in [0.5, 1); both steps are exact (powers of two).
  let e = Math.floor(Math.log2(realMultiplier)) + 1;
  let q = realMultiplier / 2 ** e;
  while (q >= 1) { q /= 2; e++; }
  while (q < 0.5) { q *= 2; e--; }
  // Math.round rounds half up; q > 0 so that equals TfLiteRound (half away from zero).
  let qFixed = Math.round(q * TWO31);
  if (qFixed === TWO31) { qFixed /= 2; e++; }
  if (e < -31) return { multiplier: 0, shift: 0 };
  if (e > 30) return { multiplier: TWO31 - 1, shift: 30 };
  return { multiplier: qFixed, shift: e };
}

const B32 = 2 ** 32;
const B16 = 2 ** 16;

/**
 * Single-rounding requantization: total = 31 - shift,
 * (int64(acc) * M + 2^(total-1)) >> total, arithmetic shift (round half up).
 * Exact for every int32 acc, M in [0, 2^31), shift in [-31, 30] (the 62-bit
 * product is carried as two exact 32-bit halves; no BigInt on the hot path).
 * The result is the exact mathematical value; it can exceed int32 only when
 * shift > 0, and callers clamp it to the int8 activation range.
 */
export function multiplyByQuantizedMultiplier(acc: number, M: number, shift: number): number {
  const total = 31 - shift;
  // acc * M = a * 2^16 + b with a = acc * mHi, b = acc * mLo, each exact in a double.
  const mHi = Math.floor(M / B16);
  const mLo = M - mHi * B16;
  const a = acc * mHi;
  const b = acc * mLo;
  // carry the sum as hi * 2^32 + lo, 0 <= lo < 2^32
  const aHi = Math.floor(a / B16);
  const aLo = a - aHi * B16;
  const bHi = Math.floor(b / B32);
  const bLo = b - bHi * B32;
  let hi = aHi + bHi;
  let lo = aLo * B16 + bLo;
  // add the rounding constant 2^(total-1)
  if (total - 1 < 32) lo += 2 ** (total - 1);
  else hi += 2 ** (total - 1 - 32);
  const carry = Math.floor(lo / B32);
  hi += carry;
  lo -= carry * B32;
  // floor((hi * 2^32 + lo) / 2^total)
  if (total <= 32) return hi * 2 ** (32 - total) + Math.floor(lo / 2 ** total);
  return Math.floor(hi / 2 ** (total - 32));
}

/** Reference implementation of the same rule with BigInt (tests, docs). */
export function multiplyByQuantizedMultiplierBig(acc: number, M: number, shift: number): number {
  const total = BigInt(31 - shift);
  return Number((BigInt(acc) * BigInt(M) + (1n << (total - 1n))) >> total);
}

/** Requantize, add the output zero point and clamp: the one rule every kernel applies. */
export function requantize(acc: number, M: number, shift: number, outZp: number, actMin: number, actMax: number): number {
  const v = multiplyByQuantizedMultiplier(acc, M, shift) + outZp;
  return v < actMin ? actMin : v > actMax ? actMax : v;
}

/** Sigmoid output quantization (TFLite logistic): scale 1/256, zero point -128. */
export const SIGMOID_OUT_SCALE = 1 / 256;
export const SIGMOID_OUT_ZP = -128;

/**
 * 256-entry int8 table, index q + 128: round(sigmoid(inputScale * (q - zp)) * 256) - 128,
 * round half away from zero, clamped to [-128, 127].
 */
export function sigmoidLut(inputScale: number, inputZeroPoint: number): Int8Array {
  if (!(inputScale > 0) || !Number.isFinite(inputScale)) {
    throw new RangeError(`sigmoidLut: input scale must be a finite number > 0, got ${inputScale}`);
  }
  if (!Number.isInteger(inputZeroPoint) || inputZeroPoint < -128 || inputZeroPoint > 127) {
    throw new RangeError(`sigmoidLut: input zero point must be an integer in [-128, 127], got ${inputZeroPoint}`);
  }
  const lut = new Int8Array(256);
  for (let q = -128; q <= 127; q++) {
    const x = inputScale * (q - inputZeroPoint);
    const y = 1 / (1 + Math.exp(-x));
    const r = Math.round(y / SIGMOID_OUT_SCALE) + SIGMOID_OUT_ZP; // y >= 0: Math.round == half away from zero
    lut[q + 128] = r < -128 ? -128 : r > 127 ? 127 : r;
  }
  return lut;
}

/** Fields of QAdd (models/qmodel.ts) other than kind and the activation range. */
export interface AddParams {
  leftShift: number;
  inputA: Requant;
  inputB: Requant;
  output: Requant;
}

/** TFLite int8 ADD: inputs are shifted left by 20 and rescaled to twice the larger input scale. */
export const ADD_LEFT_SHIFT = 20;

export function quantizeAddParams(scaleA: number, scaleB: number, scaleOut: number): AddParams {
  for (const [name, s] of [['scaleA', scaleA], ['scaleB', scaleB], ['scaleOut', scaleOut]] as const) {
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`quantizeAddParams: ${name} must be a finite number > 0, got ${s}`);
  }
  const twiceMaxInputScale = 2 * Math.max(scaleA, scaleB);
  return {
    leftShift: ADD_LEFT_SHIFT,
    inputA: quantizeMultiplier(scaleA / twiceMaxInputScale),
    inputB: quantizeMultiplier(scaleB / twiceMaxInputScale),
    output: quantizeMultiplier(twiceMaxInputScale / ((1 << ADD_LEFT_SHIFT) * scaleOut)),
  };
}
