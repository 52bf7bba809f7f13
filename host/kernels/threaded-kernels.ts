// The kernels on several threads: a KernelSet over one shared WebAssembly.Memory with an
// instance of the threaded kernel module (build/kernels.threads.wasm: the plain-SIMD
// kernels importing their memory) on this thread and one on each pool worker. Every call
// big enough to pay for waking a thread is divided over disjoint output ranges
// (host/kernels/kernel-split.ts), a few per thread, that this thread and the idle workers
// claim one by one (kernel-pool.ts `divide`): this thread runs its parts in the caller's
// scratch, each worker in a scratch region of its own that this set reserves past the
// caller's buffers, and the call returns when all are done. The
// engines see an ordinary synchronous KernelSet, and the results are bit-exact with one
// thread (every output is computed exactly as the whole call computes it).
// Needs threads and shared memory (any Node >= 16); the import-free single-thread module
// (host/kernels/wasm-kernels.ts) stays for engines without them.
import type { KernelFunctions, KernelSet } from './kernel-set.js';
import { CONV3X3_SCRATCH_BYTES, KERNEL_FUNCTIONS } from './kernel-set.js';
import { KernelHeap } from './kernel-heap.js';
import { fitsSlot, KernelPool } from './kernel-pool.js';
import type { KernelCall } from './kernel-calls.js';
import { MIN_SPLIT_WORK, partCount, splitCall, takesScratch, withScratch, type KernelName } from './kernel-split.js';
import { checkLayout, kernelError, kernelModule, type KernelExports } from './wasm-kernels.js';
import { packConvWeights, packedChannelGroup, packedConvWeightBytes } from './weight-packing.js';

/** Distinct divided calls whose parts a set remembers */
const MAX_DIVISIONS = 1 << 14;

/** A hash of a call's arguments (int32s): the key of its bucket of remembered divisions. */
function hashNumbers(a: readonly number[]): number {
  let h = a.length;
  for (let i = 0; i < a.length; i++) h = (Math.imul(h, 0x9e3779b1) + a[i]) | 0;
  return h;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Pages of the shared memory's maximum (2 GiB: every argument fits an int32); asconfig.json "threads" declares the same. */
const MAX_PAGES = 32768;

export interface ThreadedKernelSet extends KernelSet {
  /** threads that run kernels, this one included */
  readonly threads: number;
  /** the OS thread ids of the worker threads (Linux; empty where the OS does not say): the threads a live service runs first */
  readonly threadIds: readonly number[];
  /**
   * For callers that spread their own work over the threads (the chip machine's tiles):
   * this thread's kernels, never divided, and the workers (threads - 1) one by one. A
   * caller that posts to a worker must join it before the next divided call of this set.
   */
  readonly spread: {
    /** this thread's instance: every call runs whole, here */
    local: KernelFunctions;
    /** the set's own calls, each divided over this thread and the idle workers */
    divided: KernelFunctions;
    /** start `calls` (in order, whole) on worker i, each in worker i's scratch region; returns at once */
    post(i: number, calls: readonly KernelCall[]): void;
    /** worker i has finished its last post (does not wait) */
    done(i: number): boolean;
    /** wait for worker i's last post (run here instead if the worker has not started it); throws its kernel error */
    join(i: number): void;
    /** whether `calls` fit one post */
    fits(calls: readonly KernelCall[]): boolean;
    /** `calls` cut as this set divides them (one part a piece), for running on one thread a piece at a time */
    pieces(calls: readonly KernelCall[]): KernelCall[][];
    /** posts (tiles) that join found not started and ran on this thread, since the set started */
    takenBack(): number;
  };
  /** stop the worker threads; the set must not be used afterwards */
  close(): Promise<void>;
}

export interface ThreadedKernelOptions {
  threads: number;
  /** bytes of each worker's scratch region (default CONV3X3_SCRATCH_BYTES, what the engines give a call) */
  scratchBytes?: number;
  /** calls with less work run whole on this thread (default MIN_SPLIT_WORK; tests use 0 to split every call) */
  minSplitWork?: number;
  /** tests only: the share of posts a worker is held up for between reading and claiming them (kernel-pool.ts) */
  holdBeforeClaim?: number;
  /** the threaded kernel module to run (a firmware image's runtime section; default build/kernels.threads.wasm) */
  module?: WebAssembly.Module;
}

export async function createThreadedKernels(options: ThreadedKernelOptions): Promise<ThreadedKernelSet> {
  const { threads } = options;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be an integer >= 1, got ${threads}`);
  const scratchBytes = options.scratchBytes ?? CONV3X3_SCRATCH_BYTES;
  const minSplitWork = options.minSplitWork ?? MIN_SPLIT_WORK;
  const module = options.module ?? kernelModule('threads');
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  const ex = checkLayout(new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports & Record<KernelName, (...a: number[]) => void>);
  const heap = new KernelHeap(memory, scratchBytes, threads - 1);
  const pool = await KernelPool.start(module, memory, threads - 1, options.holdBeforeClaim);

  // a failed kernel of this thread: the WasmKernelError, the module's error state cleared
  const failed = (kernel: KernelName, e: unknown): unknown => {
    const err = e instanceof WebAssembly.RuntimeError ? kernelError(kernel, ex.lastError(), e.message, heap.userBytes) : e;
    ex.clearError();
    return err;
  };
  const onWorker = (i: number, { kernel, args }: KernelCall) =>
    ({ kernel: KERNEL_FUNCTIONS.indexOf(kernel), args: withScratch(kernel, args, heap.scratch(i), scratchBytes) });
  // the calls a worker was last posted by spread.post (for running them here, and its error message)
  const posted: (readonly KernelCall[])[] = [];
  let takenBack = 0;
  const joinWorker = (i: number, runHere?: () => void): unknown => {
    const code = pool.join(i, runHere);
    return code === 0 ? null : kernelError(posted[i][0].kernel, Math.max(code, 0), 'in a worker thread', heap.userBytes);
  };

  // a call run whole on this thread
  const runHere = (kernel: KernelName, args: readonly number[]): void => {
    try {
      ex[kernel](...args);
    } catch (e) {
      throw failed(kernel, e);
    }
  };
  const local = Object.fromEntries(KERNEL_FUNCTIONS.map((k) => [k, (...args: number[]) => runHere(k, args)])) as unknown as KernelFunctions;
  const fits = (calls: readonly KernelCall[]) => fitsSlot(calls.map((c) => ({ kernel: 0, args: c.args })));
  const workerScratch = (i: number) => [heap.scratch(i), scratchBytes] as const;
  // how every call of this set divides: a divided call's parts, or a tile's pieces (spread.pieces).
  // The parts depend on the arguments alone, and an engine makes the same calls every frame (its
  // buffers are planned once), so each distinct divided call is cut once and found again by its
  // arguments (a hash, then the numbers compared). Cut on every call, splitCall and its helpers
  // stayed hot for hundreds of frames and V8 recompiled them on a background thread (splitCall
  // three times, 50-65 ms each, after "wrong map" deopts on its argument arrays: busi-lite's
  // chip engine, `node --trace-opt`), which on a 2-core box takes a core from a kernel thread
  // mid-layer. A string key instead (the arguments formatted) cost the seed's chip engine about
  // 3 % more CPU a frame (two runs of each).
  const divisions = new Map<number, { kernel: KernelName; args: readonly number[]; parts: number[][] }[]>();
  let remembered = 0;
  const partsOf = (kernel: KernelName, args: number[]): number[][] => {
    const n = partCount(kernel, args, threads, minSplitWork);
    if (n === 1) return [args];
    const key = hashNumbers(args);
    let bucket = divisions.get(key);
    // a plain loop: a find() callback would be a closure allocated on every divided call
    for (let i = 0; bucket && i < bucket.length; i++) if (bucket[i].kernel === kernel && sameNumbers(bucket[i].args, args)) return bucket[i].parts;
    if (remembered >= MAX_DIVISIONS) { divisions.clear(); remembered = 0; bucket = undefined; } // a caller whose calls never repeat
    const parts = splitCall(kernel, args, n);
    if (!bucket) divisions.set(key, (bucket = []));
    bucket.push({ kernel, args: [...args], parts });
    remembered++;
    return parts;
  };
  // a kernel's calls, each divided over this thread and the idle workers when big enough; what
  // depends on the kernel only is found once here, not on every call of every frame
  const fn = (kernel: KernelName) => {
    const index = KERNEL_FUNCTIONS.indexOf(kernel);
    const scratch = takesScratch(kernel);
    const here = (part: readonly number[]) => runHere(kernel, part);
    return (...args: number[]): void => {
      const parts = partsOf(kernel, args);
      if (parts.length === 1) return runHere(kernel, args);
      const code = pool.divide(index, parts, scratch ? args.length - 2 : -1, workerScratch, here);
      if (code !== 0) throw kernelError(kernel, Math.max(code, 0), 'in a worker thread', heap.userBytes);
    };
  };
  const divided = Object.fromEntries(KERNEL_FUNCTIONS.map((k) => [k, fn(k)])) as unknown as KernelFunctions;

  return {
    name: 'wasm-simd-threads',
    threads,
    threadIds: pool.threadIds,
    get heap() { return heap.buffer; },
    ensureHeap: (bytes: number) => heap.ensure(bytes),
    convChannelGroup: packedChannelGroup,
    convWeightBytes: packedConvWeightBytes,
    packConvWeights(k: 1 | 3, cin: number, cout: number, ohwi: Int8Array, dst: number, stride: number): void {
      packConvWeights(heap.buffer, heap.userBytes, k, cin, cout, ohwi, dst, stride);
    },
    ...divided,
    spread: {
      local,
      divided,
      post(i, calls) {
        // a worker that woke late for a divided call may still be leaving it (that call is done: nothing to run here)
        if (!pool.done(i)) pool.join(i, () => {});
        posted[i] = calls;
        pool.post(i, calls.map((c) => onWorker(i, c)));
      },
      done: (i) => pool.done(i),
      join(i) {
        // a tile the worker has not started runs here: this thread would only wait for it
        const failure = joinWorker(i, () => {
          takenBack++;
          for (const c of posted[i]) runHere(c.kernel, c.args);
        });
        if (failure) throw failure;
      },
      fits,
      pieces: (calls) => calls.flatMap(({ kernel, args }) => partsOf(kernel, [...args]).map((a) => [{ kernel, args: a }])),
      takenBack: () => takenBack,
    },
    close: () => pool.close(),
  };
}
