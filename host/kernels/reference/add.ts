// Reference TFLite int8 ADD: each input (minus its zero point) is shifted left by
// leftShift, rescaled to a common scale, summed, and rescaled to the output.
import { multiplyByQuantizedMultiplier, requantize } from '../../../models/quant-math.js';
import type { HeapViews } from './heap.js';

export function add(
  h: HeapViews,
  aPtr: number, bPtr: number, n: number, aZp: number, bZp: number, leftShift: number,
  aMult: number, aShift: number, bMult: number, bShift: number,
  outMult: number, outShift: number, outZp: number, actMin: number, actMax: number,
  outPtr: number,
): void {
  const { i8 } = h;
  const scale = 2 ** leftShift;
  for (let i = 0; i < n; i++) {
    const a = multiplyByQuantizedMultiplier((i8[aPtr + i] - aZp) * scale, aMult, aShift);
    const b = multiplyByQuantizedMultiplier((i8[bPtr + i] - bZp) * scale, bMult, bShift);
    i8[outPtr + i] = requantize((a + b) | 0, outMult, outShift, outZp, actMin, actMax);
  }
}
