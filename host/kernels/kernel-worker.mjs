// One thread of the threaded kernels (host/kernels/kernel-pool.ts starts it): an instance of
// the threaded kernel module over the shared memory, waiting on its control slot for a few
// kernel calls (their scratch arguments already point at this thread's region), running them
// in order and signalling completion (unless the caller took the post back first:
// kernel-pool.ts). It spins briefly before sleeping (Atomics.wait) because the next call of a
// frame usually follows within microseconds and waking a sleeping thread costs tens of them.
// A call with kernel index `jobCall` sends it to the job board of a divided call instead
// (kernel-pool.ts `divide`): it claims parts there until none is left.
//
// Plain JavaScript on purpose: a worker that runs TypeScript must start tsx (and its esbuild
// service) inside the thread, which took 0.7-1.5 s per worker on the 2-core box; this file
// starts in about a tenth of that, which decides whether threads pay off for a one-image
// command (aunet infer). Everything it needs (function names, slot layout, spin time) comes
// in workerData from kernel-pool.ts, so those stay defined once, in TypeScript.
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { module, memory, control, index, functions, slot, job, jobCall, spinMs, seqMax, holdBeforeClaim } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = functions.map((k) => ex[k]);
const c = new Int32Array(control, index * slot.size * 4, slot.size);
const b = new Int32Array(control, control.byteLength - job.size * 4, job.size); // the job board, after the slots
// one argument array per argument count, reused: a call allocates nothing, so this thread does not
// stop for garbage collection while it holds a part that the caller waits for
const argv = [];
function argsFrom(src, at, n) {
  const a = (argv[n] ??= new Array(n).fill(0));
  for (let j = 0; j < n; j++) a[j] = src[at + j];
  return a;
}

// the parts of job `tag` this thread claims (as claimPart in kernel-pool.ts), in its own scratch
function shareJob(tag, scratchPtr, scratchBytes) {
  for (;;) {
    const v = Atomics.load(b, job.claim);
    const p = v & 255;
    const parts = b[job.parts];
    if (v >>> 8 !== tag || p >= parts) return;
    if (Atomics.compareExchange(b, job.claim, v, v + 1) !== v) continue;
    const argc = b[job.argc];
    const args = argsFrom(b, job.args + p * argc, argc);
    const s = b[job.scratchArg];
    if (s >= 0) {
      args[s] = scratchPtr;
      args[s + 1] = Math.min(scratchBytes, args[s + 1]);
    }
    try {
      fns[b[job.kernel]].apply(null, args);
    } catch {
      Atomics.compareExchange(b, job.error, 0, ex.lastError() || -1);
      ex.clearError();
    }
    // parts read before the add: once every part is done the caller may post the next job
    if (Atomics.add(b, job.completed, 1) + 1 === parts) Atomics.notify(b, job.completed);
  }
}

// ready, with this thread's OS id (Linux), so that the live service can run kernel threads first
// (common/thread-priority.ts reads it the same way; this file cannot import TypeScript)
let tid = null;
try { tid = Number(readlinkSync('/proc/thread-self').split('/').pop()) || null; } catch { /* not Linux */ }
parentPort.postMessage({ tid });
let seen = 0;
for (;;) {
  // spin, then sleep until the main thread posts a new sequence number
  // (the clock read every 64th turn only: each read allocates a heap number, which filled this
  // thread's young generation with a scavenge every 2-3 frames)
  const until = performance.now() + spinMs;
  for (let k = 1; Atomics.load(c, slot.seq) === seen; k++) if ((k & 63) === 0 && performance.now() >= until) break;
  while (Atomics.load(c, slot.seq) === seen) Atomics.wait(c, slot.seq, seen);
  seen = Atomics.load(c, slot.seq);
  if (seen < 0) break;
  if (holdBeforeClaim > 0 && Math.random() < holdBeforeClaim) for (const t = performance.now() + 0.5; performance.now() < t; );
  // claim the post (from the one before it: kernel-pool.ts); the caller may have taken it back, and
  // stores done itself, while this thread was not scheduled — and posted and taken back more since
  const before = seen === 1 ? seqMax : seen - 1;
  if (Atomics.compareExchange(c, slot.taken, before, seen) !== before) continue;
  let err = 0;
  try {
    // the posted calls, in order: [kernel, argc, args...] each
    for (let k = 0, at = slot.calls; k < c[slot.count]; k++, at += 2 + c[at + 1]) {
      if (c[at] === jobCall) shareJob(c[at + 2], c[at + 3], c[at + 4]);
      else fns[c[at]].apply(null, argsFrom(c, at + 2, c[at + 1]));
    }
  } catch {
    err = ex.lastError() || -1;
    ex.clearError();
  }
  c[slot.error] = err;
  Atomics.store(c, slot.done, seen);
  Atomics.notify(c, slot.done);
}
