// What this machine gives N threads of our own kind of work at the moment, measured beside the
// engine figures: the same single-thread engine (a busi-lite-sized random network on the
// plain-SIMD kernels, nothing shared) in each of N warm workers, timed on one of them alone, then
// on all N together. Perfect hardware gives N. On the 2-vCPU VM two such engines reached
// 1.72-1.81x where a scalar integer loop reached 1.90x in the same minutes (vector units, caches
// and memory are shared more than integer ALUs), and 1.4-2.0x across one evening while the
// 1-thread speed held; no engine that divides one frame over N threads can pass what N
// independent ones get. `aunet bench --threads 1,N` and pipeline.bench print it before and after.
import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../../common/ts-worker.js';

/** How many times the work of one engine thread this machine did on `n` at once (n at best). */
export async function hostScaling(n: number, frames = 10): Promise<number> {
  const workers = Array.from({ length: n }, () => tsWorker(new URL('./engine-alone.ts', import.meta.url), { workerData: { frames } }));
  try {
    const failed = new Promise<never>((_, reject) => workers.forEach((w) => w.once('error', reject)));
    /** the next message of each worker in `ws` (after posting 'go' to them: its wall ms) */
    const answers = (ws: Worker[]) => Promise.race([Promise.all(ws.map((w) => new Promise<number>((resolve) => w.once('message', resolve)))), failed]);
    await answers(workers); // each warm and ready
    const round = (ws: Worker[]) => {
      const ms = answers(ws);
      for (const w of ws) w.postMessage('go');
      return ms;
    };
    // V8 tiers the kernels up in the background: an untimed round first, so that the lone engine runs the same code as the others
    await round(workers);
    const [one] = await round(workers.slice(0, 1));
    const many = await round(workers);
    return (n * one) / Math.max(...many);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
