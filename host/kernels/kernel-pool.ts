// A persistent pool of kernel threads (host/kernels/kernel-worker.mjs) over one shared
// memory. Each worker owns a control slot in a shared Int32Array: the caller writes a short
// list of kernel calls (kernel index, argument count, arguments; run in order), stores the
// worker's next sequence number in `seq` and notifies; the worker runs the calls and stores
// that number into `done`. Each worker is posted to and joined on its own, so a caller can
// keep several workers busy with different work (one part of a divided call each, or one
// chip tile each) and collect them in any order. Waiting spins for SPIN_MS before it sleeps.
import { Worker } from 'node:worker_threads';
import { KERNEL_FUNCTIONS } from './kernel-set.js';

/** Int32 offsets in a worker's control slot: header, then the calls from `calls` on */
export const SLOT = { seq: 0, done: 1, error: 2, count: 3, calls: 4, size: 64 } as const;
/** spin this long (ms) before sleeping on a futex: a frame's next call usually comes sooner */
export const SPIN_MS = 0.2;

/** One kernel call: its index in KERNEL_FUNCTIONS and its arguments. */
export interface PoolCall {
  kernel: number;
  args: readonly number[];
}

/** Whether `calls` fit one control slot (each takes 2 + its arguments). */
export function fitsSlot(calls: readonly PoolCall[]): boolean {
  return calls.reduce<number>((n, c) => n + 2 + c.args.length, SLOT.calls) <= SLOT.size;
}

/** What a kernel thread gets (kernel-worker.mjs is plain JavaScript: the constants travel with it). */
interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  index: number;
  functions: readonly string[];
  slot: typeof SLOT;
  spinMs: number;
}

export class KernelPool {
  private readonly seq: Int32Array;

  private constructor(private readonly workers: Worker[], private readonly control: Int32Array) {
    this.seq = new Int32Array(workers.length);
  }

  /** Start `n` workers, each with an instance of `module` over `memory`; resolves when all are ready. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, n: number): Promise<KernelPool> {
    const sab = new SharedArrayBuffer(Math.max(1, n) * SLOT.size * 4);
    const workers = Array.from({ length: n }, (_, index) =>
      // execArgv []: not the parent's `--import tsx`, which starts tsx and its esbuild service
      // in every thread (0.5-1 s each on the 2-core box; this plain-JS worker needs neither)
      new Worker(new URL('./kernel-worker.mjs', import.meta.url), {
        execArgv: [],
        workerData: { module, memory, control: sab, index, functions: KERNEL_FUNCTIONS, slot: SLOT, spinMs: SPIN_MS } satisfies WorkerInit,
      }));
    try {
      await Promise.all(workers.map((w) => {
        let onExit: (code: number) => void = () => {};
        return new Promise<void>((resolve, reject) => {
          onExit = (code) => reject(new Error(`kernel worker exited with code ${code} while starting`));
          w.once('message', () => resolve()).once('error', reject).once('exit', onExit);
        }).finally(() => w.off('exit', onExit));
      }));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    for (const w of workers) w.unref(); // an idle pool does not keep the process alive
    return new KernelPool(workers, new Int32Array(sab));
  }

  get size(): number { return this.workers.length; }

  /** Start `calls` (in order) on worker `i`, which must be idle (joined since its last post). */
  post(i: number, calls: readonly PoolCall[]): void {
    if (!fitsSlot(calls)) throw new RangeError(`internal: ${calls.length} kernel calls do not fit a worker's control slot`);
    const c = this.slot(i);
    let at: number = SLOT.calls;
    for (const { kernel, args } of calls) {
      c[at] = kernel;
      c[at + 1] = args.length;
      c.set(args, at + 2);
      at += 2 + args.length;
    }
    c[SLOT.count] = calls.length;
    Atomics.store(c, SLOT.seq, ++this.seq[i]);
    Atomics.notify(c, SLOT.seq);
  }

  /** Whether worker i has finished what it was last posted (does not wait). */
  done(i: number): boolean {
    return Atomics.load(this.slot(i), SLOT.done) === this.seq[i];
  }

  /** Wait for worker i's last post; returns its kernel error code (0: none). */
  join(i: number): number {
    const c = this.slot(i);
    const want = this.seq[i];
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(c, SLOT.done) !== want && performance.now() < until);
    for (let d = Atomics.load(c, SLOT.done); d !== want; d = Atomics.load(c, SLOT.done)) Atomics.wait(c, SLOT.done, d);
    return c[SLOT.error];
  }

  async close(): Promise<void> {
    for (let i = 0; i < this.workers.length; i++) {
      const c = this.slot(i);
      Atomics.store(c, SLOT.seq, -1);
      Atomics.notify(c, SLOT.seq);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private slot(i: number): Int32Array {
    return this.control.subarray(i * SLOT.size, (i + 1) * SLOT.size);
  }
}
