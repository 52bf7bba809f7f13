// What this machine gives N threads of our own kind of work at the moment, measured beside the
// engine figures: the same single-thread engine (a busi-lite-sized random network on the
// plain-SIMD kernels, nothing shared) timed alone on one worker, then on N workers started
// together. Perfect hardware gives N. On the 2-vCPU VM two such engines reached 1.72-1.81x where
// a scalar integer loop reached 1.90x in the same minutes (vector units, caches and memory are
// shared more than integer ALUs), and 1.4-2.0x across one evening while the 1-thread speed held;
// no engine that divides one frame over N threads can pass what N independent ones get. `aunet bench --threads 1,N` prints it before and after its runs.
import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../../common/ts-worker.js';

/** How many times the work of one engine thread this machine did on `n` at once (n at best). */
export async function hostScaling(n: number, frames = 10): Promise<number> {
  // V8 shares a module's compiled code between the workers of a process, and tiers it up in the
  // background: a first untimed round, so that the lone engine does not run code the others get optimised
  await together(n, frames);
  const [one] = await together(1, frames);
  const many = await together(n, frames);
  return (n * one) / Math.max(...many);
}

/** Wall ms of `frames` frames on each of `n` engines, timed from one start signal once all are warm. */
async function together(n: number, frames: number): Promise<number[]> {
  const workers: Worker[] = [];
  try {
    const ready: Promise<void>[] = [];
    const done: Promise<number>[] = [];
    for (let i = 0; i < n; i++) {
      const w = tsWorker(new URL('./engine-alone.ts', import.meta.url), { workerData: { frames } });
      workers.push(w);
      const failed = new Promise<never>((_, reject) => w.once('error', reject));
      ready.push(Promise.race([new Promise<void>((resolve) => w.once('message', () => resolve())), failed]));
      done.push(ready[i].then(() => Promise.race([new Promise<number>((resolve) => w.once('message', resolve)), failed])));
    }
    await Promise.all(ready);
    for (const w of workers) w.postMessage('go');
    return await Promise.all(done);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
