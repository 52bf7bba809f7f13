// Reference of the chip's DMA engine: one strided box (host/chip/instructions.ts), run by run in
// order, each run a memmove (so a run whose source and destination overlap copies what was there).
import type { HeapViews } from './heap.js';

export function copyBox(h: HeapViews, src: number, dst: number, n1: number, s1: number, d1: number, n2: number, s2: number, d2: number, len: number): void {
  const { u8 } = h;
  for (let i = 0; i < n1; i++) {
    for (let j = 0; j < n2; j++) {
      const s = src + i * s1 + j * s2;
      u8.copyWithin(dst + i * d1 + j * d2, s, s + len);
    }
  }
}
