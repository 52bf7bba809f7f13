// Kernel scratch memory: a region the host reserves past its own buffers
// (host/kernels/wasm-kernels.ts places it after the heap it hands out and re-sets it whenever
// the heap grows). conv3x3 widens input rows into it. Also the place for
// per-call tables, so kernels never allocate.
let base: usize = 0;
let size: usize = 0;

export function setScratch(ptr: usize, bytes: usize): void {
  base = ptr;
  size = bytes;
}

export function scratchBase(): usize { return base; }
export function scratchSize(): usize { return size; }
