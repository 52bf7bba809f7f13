// Reference requantizing copy: one input of a channel concat written into its channel slice.
import { requantize } from '../../../models/quant-math.js';
import type { HeapViews } from './heap.js';

export function requantCopy(
  h: HeapViews,
  inPtr: number, pixels: number, c: number, inZp: number,
  mult: number, shift: number, outZp: number,
  outPtr: number, outPixelStride: number,
): void {
  const { i8 } = h;
  for (let p = 0; p < pixels; p++) {
    for (let ch = 0; ch < c; ch++) {
      i8[outPtr + p * outPixelStride + ch] = requantize(i8[inPtr + p * c + ch] - inZp, mult, shift, outZp, -128, 127);
    }
  }
}
