// One thread of the threaded kernels (host/kernels/threaded-kernels.ts): an instance of the
// threaded kernel module over the shared memory, waiting on its control slot for a kernel
// call (its scratch arguments already point at this thread's region), running it and
// signalling completion. It spins briefly
// before sleeping (Atomics.wait) because the next call of a frame usually follows within
// microseconds and waking a sleeping thread costs tens of them.
import { parentPort, workerData } from 'node:worker_threads';
import { KERNEL_FUNCTIONS } from './kernel-set.js';
import { SLOT, SPIN_MS, type WorkerInit } from './kernel-pool.js';

const { module, memory, control, index } = workerData as WorkerInit;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Record<string, (...a: number[]) => number>;
const fns = KERNEL_FUNCTIONS.map((k) => ex[k]);
const c = new Int32Array(control, index * SLOT.size * 4, SLOT.size);

parentPort!.postMessage('ready');
let seen = 0;
for (;;) {
  // spin, then sleep until the main thread posts a new sequence number
  const until = performance.now() + SPIN_MS;
  while (Atomics.load(c, SLOT.seq) === seen && performance.now() < until);
  while (Atomics.load(c, SLOT.seq) === seen) Atomics.wait(c, SLOT.seq, seen);
  seen = Atomics.load(c, SLOT.seq);
  if (seen < 0) break;
  let err = 0;
  try {
    fns[c[SLOT.kernel]](...Array.from(c.subarray(SLOT.args, SLOT.args + c[SLOT.argc])));
  } catch {
    err = ex.lastError() || -1;
    ex.clearError();
  }
  c[SLOT.error] = err;
  Atomics.store(c, SLOT.done, seen);
  Atomics.notify(c, SLOT.done);
}
