// Child process of threads.test.ts: many divided calls in a row whose part counts change from
// call to call (2, 8, 3, ...), each checked byte for byte. Run apart because a lost or doubled
// part count on the job board leaves the calling thread waiting forever on its futex (no timer
// of the test runner can fire then): the test kills this process after a time limit instead.
// A worker that claimed a part while the board was being rewritten ran it with half-written
// arguments and counted it into the next call (found by this loop).
import { createThreadedKernels } from '../../../host/kernels/threaded-kernels.js';

const [threads, calls] = process.argv.slice(2).map(Number);
// 256 values per part at most: lut calls of 512..4096 values divide into 2..8 parts on 2 threads
const ks = await createThreadedKernels({ threads, minSplitWork: 256 });
const IN = 0, LUT = 8192, OUT = 16384, MAX = 4096;
ks.ensureHeap(OUT + MAX + 64);
const heap = new Uint8Array(ks.heap);
for (let i = 0; i < MAX; i++) heap[IN + i] = (i * 37) & 255;
for (let i = 0; i < 256; i++) heap[LUT + i] = (i * 7 + 1) & 255; // the table is indexed by the int8 input + 128
const expect = (i: number) => heap[LUT + ((heap[IN + i] + 128) & 255)];
const sizes = [4096, 512, 1536, 4096, 768, 2048, 512, 3072];
for (let k = 0; k < calls; k++) {
  const n = sizes[k % sizes.length];
  heap.fill(0, OUT, OUT + MAX);
  ks.lut(IN, n, LUT, OUT);
  for (let i = 0; i < MAX; i++) {
    const want = i < n ? expect(i) : 0;
    if (heap[OUT + i] !== want) throw new Error(`call ${k} (${n} values): byte ${i} is ${heap[OUT + i]}, want ${want}`);
  }
}
await ks.close();
console.log(`ok ${calls} calls on ${threads} threads`);
