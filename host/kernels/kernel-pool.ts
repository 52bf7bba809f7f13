// A persistent pool of kernel threads (host/kernels/kernel-worker.mjs) over one shared
// memory. Each worker owns a control slot in a shared Int32Array: the main thread writes
// a call (kernel index, arguments), stores the round number in `seq` and
// notifies; the worker runs it and stores the round into `done`. Calls are synchronous
// for the caller: begin(), post() to workers, do its own part, join() each worker.
// Waiting spins for SPIN_MS before it sleeps.
import { Worker } from 'node:worker_threads';
import { KERNEL_FUNCTIONS } from './kernel-set.js';

/** Int32 offsets in a worker's control slot */
export const SLOT = { seq: 0, done: 1, kernel: 2, error: 3, argc: 4, args: 8, size: 32 } as const;
/** spin this long (ms) before sleeping on a futex: a frame's next call usually comes sooner */
export const SPIN_MS = 0.2;

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
  private seq = 0;

  private constructor(private readonly workers: Worker[], private readonly control: Int32Array) {}

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

  /** Begin a round of calls: post() to some workers, then join() each of them. */
  begin(): void { this.seq++; }

  /** Start kernel `kernel` (index in KERNEL_FUNCTIONS) with `args` on worker `i`, in this round. */
  post(i: number, kernel: number, args: number[]): void {
    const c = this.slot(i);
    c[SLOT.kernel] = kernel;
    c[SLOT.argc] = args.length;
    c.set(args, SLOT.args);
    Atomics.store(c, SLOT.seq, this.seq);
    Atomics.notify(c, SLOT.seq);
  }

  /** Wait for worker i's call of this round; returns its kernel error code (0: none). */
  join(i: number): number {
    const c = this.slot(i);
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(c, SLOT.done) !== this.seq && performance.now() < until);
    for (let d = Atomics.load(c, SLOT.done); d !== this.seq; d = Atomics.load(c, SLOT.done)) Atomics.wait(c, SLOT.done, d);
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
