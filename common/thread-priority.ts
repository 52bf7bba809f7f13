// Inference first: which of a process's threads the OS should run first when they compete for
// the cores. On the 2-core box the kernel threads of `aunet run` share the cores with the main
// thread (broker, HTTP, publishing), the capture thread and V8's and libuv's helpers; every
// slice of a core one of those takes while a frame is inferred lengthens that frame. Linux
// keeps a nice value per thread (setpriority on a thread id), so the live service lowers every
// thread but the inference thread and its kernel threads, which then run first; the others do
// their work in the gaps between frames. Lowering needs no privilege; raising does (so a thread
// is never raised here, and a lowered one stays lowered: threads it starts inherit its value).
// Elsewhere (no /proc/thread-self) nothing is changed.
import { readdirSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * The nice value the live service gives its other threads: a third of a kernel thread's share of
 * a contended core (the scheduler's weights for nice 5 and 0: 335 and 1024), so that a box whose
 * engine never idles (a model too big for the frame rate) still serves its broker and monitor.
 * Measured on the 2-core VM (busi-lite, chip, 2 kernel threads, 20 clients, 3 s phases alternated
 * in one run; docs/benchmarks.md): in two runs 5 took the engine's own p99 from 50.3 and 46.1 to
 * 42.0 and 38.6 ms, about the same engine's alone in those runs (43.9-45.3 and 36.5-37.2), and 10
 * did no better in three.
 */
export const OTHER_THREADS_NICE = 5;

/**
 * This thread's OS thread id (Linux: /proc/thread-self links to /proc/PID/task/TID), or null where
 * the OS does not say. kernel-worker.mjs (plain JavaScript, it cannot import this) reads it the same way.
 */
export function ownThreadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/**
 * Give every thread of this process except `keep` the nice value `nice`, where it is lower
 * (never raising a thread). Returns how many threads were lowered; a thread that ended
 * meanwhile, or that the OS refuses, is passed over.
 */
export function lowerOtherThreads(keep: readonly number[], nice: number): number {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let lowered = 0;
  for (const t of tids) {
    const tid = Number(t);
    if (keep.includes(tid)) continue;
    try {
      if (getPriority(tid) >= nice) continue;
      setPriority(tid, nice);
      lowered++;
    } catch { /* the thread ended */ }
  }
  return lowered;
}
