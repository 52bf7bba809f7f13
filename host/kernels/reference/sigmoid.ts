// Reference table lookup (the quantized sigmoid): out = lut[in + 128].
import type { HeapViews } from './heap.js';

export function lut(h: HeapViews, inPtr: number, n: number, lutPtr: number, outPtr: number): void {
  const { i8 } = h;
  for (let i = 0; i < n; i++) i8[outPtr + i] = i8[lutPtr + i8[inPtr + i] + 128];
}
