// Reference 3x3 convolution (NHWC input, OHWI weights, per-channel requantization).
// The specification assembly/kernels/conv3x3.ts must match bit for bit.
import { requantize } from '../../../models/quant-math.js';
import { type HeapViews, i32At } from './heap.js';

export function conv3x3(
  h: HeapViews,
  inPtr: number, inH: number, inW: number, cin: number, inZp: number,
  outPtr: number, outH: number, outW: number, outPixelStride: number, cout: number,
  stride: number, padTop: number, padLeft: number,
  wPtr: number, biasPtr: number, multPtr: number, shiftPtr: number,
  outZp: number, actMin: number, actMax: number,
): void {
  const { i8 } = h;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      for (let o = 0; o < cout; o++) {
        let acc = i32At(h, biasPtr, o);
        for (let ky = 0; ky < 3; ky++) {
          const iy = y * stride + ky - padTop;
          if (iy < 0 || iy >= inH) continue; // padding: (inZp - inZp) * w = 0
          for (let kx = 0; kx < 3; kx++) {
            const ix = x * stride + kx - padLeft;
            if (ix < 0 || ix >= inW) continue;
            const inBase = inPtr + (iy * inW + ix) * cin;
            const wBase = wPtr + ((o * 3 + ky) * 3 + kx) * cin;
            for (let c = 0; c < cin; c++) acc += (i8[inBase + c] - inZp) * i8[wBase + c];
          }
        }
        // int32 accumulator: wraps like the WASM i32 adds
        i8[outPtr + (y * outW + x) * outPixelStride + o] =
          requantize(acc | 0, i32At(h, multPtr, o), i32At(h, shiftPtr, o), outZp, actMin, actMax);
      }
    }
  }
}
