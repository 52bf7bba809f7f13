// Runs one kernel call on several KernelSets with identical inputs and returns each
// set's output bytes, so tests can demand byte equality. Buffers are laid out by a
// bump allocator from offset 0 (16-byte aligned); every set gets the same layout.
import type { KernelSet } from '../../../host/kernels/kernel-set.js';
import { createReferenceKernels } from '../../../host/kernels/reference/index.js';
import { createWasmKernels, relaxedSimdSupported, type WasmBuild } from '../../../host/kernels/wasm-kernels.js';
import type { Rng } from './rng.js';

export interface Buf { ptr: number; bytes: Uint8Array }

export class Layout {
  private top = 0;
  readonly bufs: Buf[] = [];
  /** a buffer holding `bytes` (copied into every heap) */
  put(bytes: Uint8Array | Int8Array | Int32Array): number {
    const b = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
    return this.reserve(b);
  }
  /** an uninitialised region filled with a recognisable pattern */
  space(n: number, fill = 0x5a): number { return this.reserve(new Uint8Array(n).fill(fill)); }
  /** packed conv weights: size depends on the set, so callers pass per-set bytes; reserve the max */
  weights(maxBytes: number): number { return this.reserve(new Uint8Array(maxBytes)); }
  get size(): number { return this.top; }
  private reserve(b: Uint8Array): number {
    const ptr = this.top;
    this.bufs.push({ ptr, bytes: b });
    this.top = Math.ceil((ptr + b.length) / 16) * 16;
    return ptr;
  }
}

/** Copy the layout into a set's heap. */
export function load(ks: KernelSet, layout: Layout): void {
  const heap = ks.ensureHeap(layout.size + 64);
  const u8 = new Uint8Array(heap);
  for (const b of layout.bufs) u8.set(b.bytes, b.ptr);
}

export function read(ks: KernelSet, ptr: number, n: number): Uint8Array {
  return new Uint8Array(ks.heap, ptr, n).slice();
}

/** The sets every test compares: the reference plus each WASM build this Node can load. */
export function kernelSets(): { reference: KernelSet; wasm: KernelSet[] } {
  const builds: WasmBuild[] = ['simd', 'debug'];
  if (relaxedSimdSupported()) builds.push('relaxed');
  const only = process.env.AUNET_KERNEL_BUILDS?.split(',') as WasmBuild[] | undefined;
  return {
    reference: createReferenceKernels(),
    wasm: (only ?? builds).map((build) => createWasmKernels({ build })),
  };
}

/** Describe the first differing byte, or null when equal. */
export function firstDiff(a: Uint8Array, b: Uint8Array, channels: number): string | null {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const s = (x: number) => (x << 24) >> 24;
      return `byte ${i} (pixel ${Math.floor(i / channels)}, channel ${i % channels}): expected ${s(a[i])}, got ${s(b[i])}`;
    }
  }
  return null;
}

/** Bytes `ks` packs `cout` output channels' conv weights into (whole channel groups). */
export function packedWeightBytes(ks: KernelSet, k: 1 | 3, cin: number, cout: number, stride: number): number {
  const g = ks.convChannelGroup(k);
  return ks.convWeightBytes(k, cin, stride) * Math.ceil(cout / g) * g;
}

/**
 * copyBox arguments for a random box inside [0, bytes): 1-byte to 64-byte runs, contiguous or
 * strided on either side, its source and destination spans apart or overlapping.
 */
export function randomBox(rng: Rng, bytes: number): [number, number, number, number, number, number, number, number, number] {
  for (;;) {
    const len = rng.pick([1, 1, rng.int(2, 16), rng.int(17, 64)]);
    const n1 = rng.int(1, 6), n2 = rng.int(1, 6);
    const s2 = rng.pick([len, rng.int(0, 2 * len + 8)]), d2 = rng.pick([len, rng.int(0, 2 * len + 8)]);
    const s1 = rng.pick([n2 * s2, rng.int(0, n2 * (s2 + len) + 8)]), d1 = rng.pick([n2 * d2, rng.int(0, n2 * (d2 + len) + 8)]);
    const srcSpan = (n1 - 1) * s1 + (n2 - 1) * s2 + len, dstSpan = (n1 - 1) * d1 + (n2 - 1) * d2 + len;
    if (srcSpan > bytes || dstSpan > bytes) continue;
    const src = rng.int(0, bytes - srcSpan);
    // half of the boxes land near their source: overlapping spans
    const dst = rng.float() < 0.5 ? Math.min(bytes - dstSpan, Math.max(0, src + rng.int(-len, len))) : rng.int(0, bytes - dstSpan);
    return [src, dst, n1, s1, d1, n2, s2, d2, len];
  }
}

/** A kernel module built from older sources: (module (memory (export "memory") 1) (func (export "conv3x3"))). */
export const OLD_KERNEL_MODULE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1,
  7, 20, 2, 6, 109, 101, 109, 111, 114, 121, 2, 0, 7, 99, 111, 110, 118, 51, 120, 51, 0, 0, 10, 4, 1, 2, 0, 11]);
