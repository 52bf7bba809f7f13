// Reference 2x2 max-pool, stride 2 (an odd last row/column is dropped).
import type { HeapViews } from './heap.js';

export function maxpool2x2(h: HeapViews, inPtr: number, inH: number, inW: number, c: number, outPtr: number): void {
  const { i8 } = h;
  const outH = inH >> 1, outW = inW >> 1;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      for (let ch = 0; ch < c; ch++) {
        const at = (yy: number, xx: number) => i8[inPtr + (yy * inW + xx) * c + ch];
        i8[outPtr + (y * outW + x) * c + ch] =
          Math.max(at(2 * y, 2 * x), at(2 * y, 2 * x + 1), at(2 * y + 1, 2 * x), at(2 * y + 1, 2 * x + 1));
      }
    }
  }
}
