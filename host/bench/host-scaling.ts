// What this machine gives N threads at the moment, measured beside the engine figures: the
// same fixed integer loop (no memory traffic, no synchronisation) on one worker, then on N at
// once. Perfect hardware gives N; a shared virtual machine whose host takes a core away now and
// then gives less, and no engine can scale past that in the same minutes. `aunet bench
// --threads 1,N` prints it before and after its runs, so a thread-scaling figure can be read
// against the ceiling it was measured under.
import { Worker } from 'node:worker_threads';

/** about 0.3 s of one core here (Xeon @ 2.8 GHz) */
const TURNS = 4e7;
const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
let a = 1, b = 2, c = 3, d = 4;
const t0 = performance.now();
for (let i = 0; i < workerData; i++) {
  a = (Math.imul(a, 1103515245) + 12345) | 0; b = (Math.imul(b, 1103515245) + 12345) | 0;
  c = (Math.imul(c, 1103515245) + 12345) | 0; d = (Math.imul(d, 1103515245) + 12345) | 0;
}
parentPort.postMessage({ ms: performance.now() - t0, sink: a ^ b ^ c ^ d });`;

/** Wall ms of the loop on each of `n` workers started together. */
async function loopOn(n: number, turns: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => new Promise<number>((resolve, reject) => {
    const w = new Worker(LOOP, { eval: true, workerData: turns });
    w.once('message', (m: { ms: number }) => {
      resolve(m.ms);
      void w.terminate();
    }).once('error', reject);
  })));
}

/** How many times the work of one thread this machine did on `n` threads in the same time (n at best). */
export async function hostScaling(n: number, turns = TURNS): Promise<number> {
  const [one] = await loopOn(1, turns);
  const many = await loopOn(n, turns);
  return (n * one) / Math.max(...many);
}
