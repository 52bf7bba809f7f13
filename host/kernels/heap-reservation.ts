// Where in a KernelSet's heap an engine may put its data. Each engine takes one
// contiguous region once, at load; regions of several engines on one KernelSet
// never overlap (a per-KernelSet high-water mark), and the heap is grown once
// to cover them, so nothing grows per frame. The kernel module has no static
// data (scripts/build-wasm.js refuses data segments), so the heap is the host's
// from byte 0.
import type { KernelSet } from './kernel-set.js';

const marks = new WeakMap<KernelSet, number>();

/** Reserve `bytes` (aligned to `alignment`) in `kernels`' heap; grows the heap; returns the region's offset. */
export function reserveHeap(kernels: KernelSet, bytes: number, alignment = 16): number {
  const start = marks.get(kernels) ?? 0;
  const offset = Math.ceil(start / alignment) * alignment;
  const end = offset + bytes;
  kernels.ensureHeap(end);
  marks.set(kernels, end);
  return offset;
}
