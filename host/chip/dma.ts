// DMA between DRAM and SRAM: the boxes the compiler emits (an input tile with
// its halo is a rectangle of rows x columns x channels of an NHWC tensor; a
// channel group of an output tile is a strided rectangle). Both memories are
// regions of one heap, and the machine copies a box with the kernels' copyBox
// (host/kernels/kernel-set.ts: a memmove per contiguous run).
import type { Box } from './instructions.js';

/**
 * The box that moves rows [r0, r1) x columns [c0, c1) x channels [k0, k1) of an
 * h x w x c NHWC tensor at `tensorAt` to or from a compact buffer at `bufAt`.
 * Runs are merged where the rectangle is contiguous (whole rows, whole pixels).
 */
export function rectBox(dir: 'in' | 'out', tensorAt: number, w: number, c: number, r0: number, r1: number, c0: number, c1: number, k0: number, k1: number, bufAt: number): Box {
  const rows = r1 - r0;
  const cols = c1 - c0;
  const ch = k1 - k0;
  const t0 = tensorAt + (r0 * w + c0) * c + k0;
  let tb: { n1: number; t1: number; b1: number; n2: number; t2: number; b2: number; len: number };
  if (ch === c && cols === w) tb = { n1: 1, t1: 0, b1: 0, n2: 1, t2: 0, b2: 0, len: rows * w * c };
  else if (ch === c) tb = { n1: rows, t1: w * c, b1: cols * c, n2: 1, t2: 0, b2: 0, len: cols * c };
  else tb = { n1: rows, t1: w * c, b1: cols * ch, n2: cols, t2: c, b2: ch, len: ch };
  return dir === 'in'
    ? { src: t0, dst: bufAt, n1: tb.n1, s1: tb.t1, d1: tb.b1, n2: tb.n2, s2: tb.t2, d2: tb.b2, len: tb.len }
    : { src: bufAt, dst: t0, n1: tb.n1, s1: tb.b1, d1: tb.t1, n2: tb.n2, s2: tb.b2, d2: tb.t2, len: tb.len };
}

/** A contiguous copy of `len` bytes. */
export function flatBox(src: number, dst: number, len: number): Box {
  return { src, dst, n1: 1, s1: 0, d1: 0, n2: 1, s2: 0, d2: 0, len };
}
