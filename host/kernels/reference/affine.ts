// Reference per-channel affine (folded BatchNorm): a depthwise 1x1 convolution.
import { requantize } from '../../../models/quant-math.js';
import { type HeapViews, i32At } from './heap.js';

export function affine(
  h: HeapViews,
  inPtr: number, pixels: number, c: number, inZp: number,
  wPtr: number, biasPtr: number, multPtr: number, shiftPtr: number,
  outZp: number, actMin: number, actMax: number, outPtr: number,
): void {
  const { i8 } = h;
  for (let p = 0; p < pixels; p++) {
    for (let ch = 0; ch < c; ch++) {
      const acc = i8[wPtr + ch] * (i8[inPtr + p * c + ch] - inZp) + i32At(h, biasPtr, ch);
      i8[outPtr + p * c + ch] = requantize(acc | 0, i32At(h, multPtr, ch), i32At(h, shiftPtr, ch), outZp, actMin, actMax);
    }
  }
}
