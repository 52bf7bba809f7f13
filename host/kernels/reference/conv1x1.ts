// Reference 1x1 convolution over compact NHWC pixels (OHWI weights = [cout][cin]).
import { requantize } from '../../../models/quant-math.js';
import { type HeapViews, i32At } from './heap.js';

export function conv1x1(
  h: HeapViews,
  inPtr: number, pixels: number, cin: number, inZp: number,
  outPtr: number, outPixelStride: number, cout: number,
  wPtr: number, biasPtr: number, multPtr: number, shiftPtr: number,
  outZp: number, actMin: number, actMax: number,
): void {
  const { i8 } = h;
  for (let p = 0; p < pixels; p++) {
    for (let o = 0; o < cout; o++) {
      let acc = i32At(h, biasPtr, o);
      for (let c = 0; c < cin; c++) acc += (i8[inPtr + p * cin + c] - inZp) * i8[wPtr + o * cin + c];
      i8[outPtr + p * outPixelStride + o] =
        requantize(acc | 0, i32At(h, multPtr, o), i32At(h, shiftPtr, o), outZp, actMin, actMax);
    }
  }
}
