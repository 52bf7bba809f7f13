// Unit tests of the offline quantization arithmetic (models/quant-math.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  quantizeMultiplier, multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplierBig,
  sigmoidLut, quantizeAddParams, requantize,
} from '../../models/quant-math.js';
import { Rng } from '../host/kernels/rng.js';

test('quantizeMultiplier: frexp decomposition, Q31 in [2^30, 2^31)', () => {
  assert.deepEqual(quantizeMultiplier(0), { multiplier: 0, shift: 0 });
  assert.deepEqual(quantizeMultiplier(0.5), { multiplier: 2 ** 30, shift: 0 });
  assert.deepEqual(quantizeMultiplier(1), { multiplier: 2 ** 30, shift: 1 });
  assert.deepEqual(quantizeMultiplier(0.75), { multiplier: 3 * 2 ** 29, shift: 0 });
  assert.deepEqual(quantizeMultiplier(2 ** -10), { multiplier: 2 ** 30, shift: -9 });
  // rounding up to 2^31 moves to the next exponent
  assert.deepEqual(quantizeMultiplier(1 - 2 ** -40), { multiplier: 2 ** 30, shift: 1 });
  // too small: zero; too large: saturated
  assert.deepEqual(quantizeMultiplier(2 ** -40), { multiplier: 0, shift: 0 });
  assert.deepEqual(quantizeMultiplier(2 ** 40), { multiplier: 2 ** 31 - 1, shift: 30 });
  assert.throws(() => quantizeMultiplier(-1), /finite number >= 0/);
  const rng = new Rng(1);
  for (let i = 0; i < 2000; i++) {
    const real = Math.exp((rng.float() - 0.5) * 40);
    const { multiplier, shift } = quantizeMultiplier(real);
    assert.ok(multiplier >= 2 ** 30 && multiplier < 2 ** 31, `M ${multiplier}`);
    assert.ok(shift >= -31 && shift <= 30);
    const back = multiplier * 2 ** (shift - 31);
    assert.ok(Math.abs(back - real) <= real * 2 ** -30, `${real} -> ${back}`);
  }
});

test('multiplyByQuantizedMultiplier: exact single rounding against BigInt', () => {
  // hand-checked: 3 * 0.5 = 1.5 -> 2 (half up); -3 * 0.5 = -1.5 -> -1 (half toward +inf)
  assert.equal(multiplyByQuantizedMultiplier(3, 2 ** 30, 0), 2);
  assert.equal(multiplyByQuantizedMultiplier(-3, 2 ** 30, 0), -1);
  assert.equal(multiplyByQuantizedMultiplier(-5, 2 ** 30, -1), -1); // -1.25 -> -1
  assert.equal(multiplyByQuantizedMultiplier(7, 2 ** 30, 2), 14);
  const rng = new Rng(2);
  const accs = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 12345, -12345];
  for (let i = 0; i < 20000; i++) {
    const acc = i < accs.length * 8 ? accs[i % accs.length] : rng.int(-(2 ** 31), 2 ** 31 - 1) >> rng.int(0, 31);
    const M = i % 5 === 0 ? 2 ** 31 - 1 : i % 7 === 0 ? 2 ** 30 : rng.int(2 ** 30, 2 ** 31 - 1);
    const shift = rng.int(-31, 30);
    assert.equal(multiplyByQuantizedMultiplier(acc, M, shift), multiplyByQuantizedMultiplierBig(acc, M, shift),
      `acc ${acc} M ${M} shift ${shift}`);
  }
  assert.equal(requantize(1000, 2 ** 30, 0, 10, -128, 127), 127);
  assert.equal(requantize(-1000, 2 ** 30, 0, 10, 0, 127), 0);
  assert.equal(requantize(100, 2 ** 30, 0, -20, -128, 127), 30);
});

test('sigmoidLut: 256 entries, scale 1/256 zp -128, rounded and clamped', () => {
  const lut = sigmoidLut(0.1, 3);
  assert.equal(lut.length, 256);
  assert.equal(lut[3 + 128], 0); // sigmoid(0) = 0.5 -> 128 - 128
  assert.equal(lut[0], -128 + Math.round(256 / (1 + Math.exp(13.1))));
  assert.equal(lut[255], 127); // sigmoid(12.4) * 256 rounds to 256 -> clamped
  for (let i = 1; i < 256; i++) assert.ok(lut[i] >= lut[i - 1], 'monotone');
  assert.throws(() => sigmoidLut(0, 0), /scale/);
  assert.throws(() => sigmoidLut(1, 200), /zero point/);
});

test('quantizeAddParams: left shift 20, twice-max-scale rescaling', () => {
  const p = quantizeAddParams(0.02, 0.01, 0.04);
  assert.equal(p.leftShift, 20);
  assert.deepEqual(p.inputA, quantizeMultiplier(0.5));
  assert.deepEqual(p.inputB, quantizeMultiplier(0.25));
  assert.deepEqual(p.output, quantizeMultiplier(0.04 / (2 ** 20 * 0.04)));
  assert.throws(() => quantizeAddParams(0, 1, 1), /scaleA/);
});
