// The chip's DMA engine (host/chip: a DMA instruction's box, host/chip/instructions.ts):
// n1 x n2 runs of len bytes, run (i, j) from src + i*s1 + j*s2 to dst + i*d1 + j*d2, in that
// order, each a memmove (memory.copy: a plain memmove on shared memory too, where the host's
// copyWithin moves relaxed-atomic words). Reference: host/kernels/reference/dma.ts.
import { fail, ERR_SHAPE } from './errors';

export function copyBox(src: usize, dst: usize, n1: i32, s1: i32, d1: i32, n2: i32, s2: i32, d2: i32, len: i32): void {
  if (n1 < 0 || n2 < 0 || len < 0 || s1 < 0 || d1 < 0 || s2 < 0 || d2 < 0) fail(ERR_SHAPE);
  if (n1 == 0 || n2 == 0 || len == 0) return;
  // the last run's end, in 64 bits: a box reaching past the memory traps as an out-of-bounds
  // access (memory.copy of one byte at the memory's end) before any byte moves, instead of
  // wrapping its 32-bit addresses back into the heap
  const top = u64(memory.size()) << 16;
  const far = u64(n1 - 1) * u64(s1) + u64(n2 - 1) * u64(s2);
  const farDst = u64(n1 - 1) * u64(d1) + u64(n2 - 1) * u64(d2);
  if (u64(src) + far + u64(len) > top || u64(dst) + farDst + u64(len) > top) memory.copy(usize(top - 1), usize(top - 1), 2);
  const n = usize(len);
  for (let i = 0; i < n1; i++) {
    let s = src + usize(i) * usize(s1);
    let d = dst + usize(i) * usize(d1);
    for (let j = 0; j < n2; j++) {
      memory.copy(d, s, n);
      s += usize(s2);
      d += usize(d2);
    }
  }
}
