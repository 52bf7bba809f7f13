// The kernels on several threads: a KernelSet over one shared WebAssembly.Memory with an
// instance of the threaded kernel module (build/kernels.threads.wasm: the plain-SIMD
// kernels importing their memory) on this thread and one on each pool worker. Every call
// big enough to pay for waking a thread is divided over disjoint output ranges
// (host/kernels/kernel-split.ts): this thread runs the first part in the caller's scratch,
// the workers the others, each in a scratch region of its own that this set reserves past
// the caller's buffers, and the call returns when all are done. The
// engines see an ordinary synchronous KernelSet, and the results are bit-exact with one
// thread (every output is computed exactly as the whole call computes it).
// Needs threads and shared memory (any Node >= 16); the import-free single-thread module
// (host/kernels/wasm-kernels.ts) stays for engines without them.
import type { KernelSet } from './kernel-set.js';
import { CONV3X3_SCRATCH_BYTES, KERNEL_FUNCTIONS } from './kernel-set.js';
import { KernelHeap } from './kernel-heap.js';
import { KernelPool } from './kernel-pool.js';
import { MIN_SPLIT_WORK, splitCall, withScratch, type KernelName } from './kernel-split.js';
import { kernelError, kernelModule, type KernelExports } from './wasm-kernels.js';
import { packConvWeights, packedChannelGroup, packedConvWeightBytes } from './weight-packing.js';

/** Pages of the shared memory's maximum (2 GiB: every argument fits an int32); asconfig.json "threads" declares the same. */
const MAX_PAGES = 32768;

export interface ThreadedKernelSet extends KernelSet {
  /** threads that run kernels, this one included */
  readonly threads: number;
  /** stop the worker threads; the set must not be used afterwards */
  close(): Promise<void>;
}

export interface ThreadedKernelOptions {
  threads: number;
  /** bytes of each worker's scratch region (default CONV3X3_SCRATCH_BYTES, what the engines give a call) */
  scratchBytes?: number;
  /** calls with less work run whole on this thread (default MIN_SPLIT_WORK; tests use 0 to split every call) */
  minSplitWork?: number;
}

export async function createThreadedKernels(options: ThreadedKernelOptions): Promise<ThreadedKernelSet> {
  const { threads } = options;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be an integer >= 1, got ${threads}`);
  const scratchBytes = options.scratchBytes ?? CONV3X3_SCRATCH_BYTES;
  const minSplitWork = options.minSplitWork ?? MIN_SPLIT_WORK;
  const module = kernelModule('threads');
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports & Record<KernelName, (...a: number[]) => void>;
  const heap = new KernelHeap(memory, scratchBytes, threads - 1);
  const pool = await KernelPool.start(module, memory, threads - 1);

  const call = (kernel: KernelName, args: number[]): void => {
    const parts = splitCall(kernel, args, threads, minSplitWork);
    const k = KERNEL_FUNCTIONS.indexOf(kernel);
    if (parts.length > 1) {
      pool.begin();
      for (let i = 1; i < parts.length; i++) pool.post(i - 1, k, withScratch(kernel, parts[i], heap.scratch(i - 1), scratchBytes));
    }
    let failure: unknown = null;
    try {
      ex[kernel](...parts[0]);
    } catch (e) {
      failure = e instanceof WebAssembly.RuntimeError ? kernelError(kernel, ex.lastError(), e.message, heap.userBytes) : e;
      ex.clearError();
    }
    for (let i = 1; i < parts.length; i++) {
      const code = pool.join(i - 1);
      if (code !== 0 && !failure) failure = kernelError(kernel, Math.max(code, 0), 'in a worker thread', heap.userBytes);
    }
    if (failure) throw failure;
  };
  const fn = (kernel: KernelName) => (...args: number[]) => call(kernel, args);

  return {
    name: 'wasm-simd-threads',
    threads,
    get heap() { return heap.buffer; },
    ensureHeap: (bytes: number) => heap.ensure(bytes),
    convChannelGroup: packedChannelGroup,
    convWeightBytes: packedConvWeightBytes,
    packConvWeights(k: 1 | 3, cin: number, cout: number, ohwi: Int8Array, dst: number): void {
      packConvWeights(heap.buffer, heap.userBytes, k, cin, cout, ohwi, dst);
    },
    conv3x3: fn('conv3x3'),
    conv1x1: fn('conv1x1'),
    maxpool2x2: fn('maxpool2x2'),
    upsample2x: fn('upsample2x'),
    requantCopy: fn('requantCopy'),
    add: fn('add'),
    lut: fn('lut'),
    gateMul: fn('gateMul'),
    affine: fn('affine'),
    close: () => pool.close(),
  };
}
