// Where in a KernelSet's heap an engine may put its data. Each engine takes one
// contiguous region once, at load; regions of several engines on one KernelSet
// never overlap (a per-KernelSet high-water mark), and the heap is grown once
// to cover them, so nothing grows per frame.
import type { KernelSet } from './kernel-set.js';

const marks = new WeakMap<KernelSet, number>();

/** First heap byte a host may use: after the module's own static data, when the backend says where that ends. */
function heapBase(kernels: KernelSet): number {
  const base = (kernels as KernelSet & { readonly heapBase?: number }).heapBase;
  return typeof base === 'number' && base >= 0 ? base : 0;
}

/** Reserve `bytes` (aligned to `alignment`) in `kernels`' heap; grows the heap; returns the region's offset. */
export function reserveHeap(kernels: KernelSet, bytes: number, alignment = 16): number {
  const start = marks.get(kernels) ?? heapBase(kernels);
  const offset = Math.ceil(start / alignment) * alignment;
  const end = offset + bytes;
  kernels.ensureHeap(end);
  marks.set(kernels, end);
  return offset;
}
