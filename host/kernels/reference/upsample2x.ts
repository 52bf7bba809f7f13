// Reference nearest-neighbour upsampling by 2.
import type { HeapViews } from './heap.js';

export function upsample2x(h: HeapViews, inPtr: number, inH: number, inW: number, c: number, outPtr: number): void {
  const { i8 } = h;
  const outW = 2 * inW;
  for (let y = 0; y < 2 * inH; y++) {
    for (let x = 0; x < outW; x++) {
      for (let ch = 0; ch < c; ch++) i8[outPtr + (y * outW + x) * c + ch] = i8[inPtr + ((y >> 1) * inW + (x >> 1)) * c + ch];
    }
  }
}
