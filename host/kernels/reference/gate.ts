// Reference attention-gate multiply with the nearest x2 upsample of the gate fused in.
import { requantize } from '../../../models/quant-math.js';
import type { HeapViews } from './heap.js';

export function gateMul(
  h: HeapViews,
  aPtr: number, skipPtr: number, hgt: number, w: number, c: number, skipZp: number,
  mult: number, shift: number, outZp: number, actMin: number, actMax: number,
  outPtr: number,
): void {
  const { i8 } = h;
  const aw = (w + 1) >> 1;
  for (let y = 0; y < hgt; y++) {
    for (let x = 0; x < w; x++) {
      const g = i8[aPtr + (y >> 1) * aw + (x >> 1)] + 128; // sigmoid output zp -128: g in [0, 255]
      for (let ch = 0; ch < c; ch++) {
        const i = (y * w + x) * c + ch;
        i8[outPtr + i] = requantize(g * (i8[skipPtr + i] - skipZp), mult, shift, outZp, actMin, actMax);
      }
    }
  }
}
