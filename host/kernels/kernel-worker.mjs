// One thread of the threaded kernels (host/kernels/kernel-pool.ts starts it): an instance of
// the threaded kernel module over the shared memory, waiting on its control slot for a few
// kernel calls (their scratch arguments already point at this thread's region), running them
// in order and signalling completion. It spins briefly before sleeping (Atomics.wait) because the next
// call of a frame usually follows within microseconds and waking a sleeping thread costs
// tens of them.
//
// Plain JavaScript on purpose: a worker that runs TypeScript must start tsx (and its esbuild
// service) inside the thread, which took 0.7-1.5 s per worker on the 2-core box; this file
// starts in about a tenth of that, which decides whether threads pay off for a one-image
// command (aunet infer). Everything it needs (function names, slot layout, spin time) comes
// in workerData from kernel-pool.ts, so those stay defined once, in TypeScript.
import { parentPort, workerData } from 'node:worker_threads';

const { module, memory, control, index, functions, slot, spinMs } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = functions.map((k) => ex[k]);
const c = new Int32Array(control, index * slot.size * 4, slot.size);

parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  // spin, then sleep until the main thread posts a new sequence number
  const until = performance.now() + spinMs;
  while (Atomics.load(c, slot.seq) === seen && performance.now() < until);
  while (Atomics.load(c, slot.seq) === seen) Atomics.wait(c, slot.seq, seen);
  seen = Atomics.load(c, slot.seq);
  if (seen < 0) break;
  let err = 0;
  try {
    // the posted calls, in order: [kernel, argc, args...] each
    for (let k = 0, at = slot.calls; k < c[slot.count]; k++, at += 2 + c[at + 1]) {
      fns[c[at]](...c.subarray(at + 2, at + 2 + c[at + 1]));
    }
  } catch {
    err = ex.lastError() || -1;
    ex.clearError();
  }
  c[slot.error] = err;
  Atomics.store(c, slot.done, seen);
  Atomics.notify(c, slot.done);
}
