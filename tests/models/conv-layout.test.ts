// The one conv-weight layout conversion: each element lands where its layout
// says, and every round trip is the identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertConvLayout, type ConvLayout } from '../../models/conv-layout.js';

const shape = { cout: 3, cin: 2, k: 3 as const };
const ohwi = Float32Array.from({ length: 3 * 3 * 3 * 2 }, (_, j) => j);
const at = { o: 2, y: 1, x: 0, i: 1 };
const value = ohwi[((at.o * 3 + at.y) * 3 + at.x) * 2 + at.i];

test('an element moves to its place in OIHW and HWIO', () => {
  assert.equal(convertConvLayout(ohwi, shape, 'OHWI', 'OIHW')[((at.o * 2 + at.i) * 3 + at.y) * 3 + at.x], value);
  assert.equal(convertConvLayout(ohwi, shape, 'OHWI', 'HWIO')[((at.y * 3 + at.x) * 2 + at.i) * 3 + at.o], value);
});

test('every round trip is the identity', () => {
  const layouts: ConvLayout[] = ['OHWI', 'OIHW', 'HWIO'];
  for (const a of layouts) {
    for (const b of layouts) {
      const there = convertConvLayout(convertConvLayout(ohwi, shape, 'OHWI', a), shape, a, b);
      assert.deepEqual(convertConvLayout(there, shape, b, 'OHWI'), ohwi, `${a} -> ${b}`);
    }
  }
});
