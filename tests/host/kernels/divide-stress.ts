// Child process of threads.test.ts: many divided calls in a row whose part counts change from
// call to call (2, 8, 3, ...), each checked byte for byte, and between them calls posted whole to
// a worker (as the chip machine posts its tiles) and joined, which the caller takes back and runs
// itself when the worker has not started them. Run apart because a lost or doubled part count on
// the job board, or a post run twice or never, leaves the calling thread waiting forever on its
// futex (no timer of the test runner can fire then): the test kills this process after a time
// limit instead. A worker that claimed a part while the board was being rewritten ran it with
// half-written arguments and counted it into the next call (found by this loop).
//   divide-stress.ts THREADS CALLS [HOGS] [HOLD]   HOGS busy threads beside it, so that workers start late;
//   HOLD: the share of posts a worker is held up for between reading and claiming them
import { Worker } from 'node:worker_threads';
import { createThreadedKernels } from '../../../host/kernels/threaded-kernels.js';

const [threads, calls, hogCount = 0, holdBeforeClaim = 0] = process.argv.slice(2).map(Number);
const hogs = Array.from({ length: hogCount }, () => new Worker('for (;;);', { eval: true }));
// 256 values per part at most: lut calls of 512..4096 values divide into 2..8 parts on 2 threads
const ks = await createThreadedKernels({ threads, minSplitWork: 256, holdBeforeClaim });
const IN = 0, LUT = 8192, OUT = 16384, POSTED = 24576, HERE = 32768, MAX = 4096;
ks.ensureHeap(HERE + MAX + 64);
const heap = new Uint8Array(ks.heap);
for (let i = 0; i < MAX; i++) heap[IN + i] = (i * 37) & 255;
for (let i = 0; i < 256; i++) heap[LUT + i] = (i * 7 + 1) & 255; // the table is indexed by the int8 input + 128
const expect = (i: number) => heap[LUT + ((heap[IN + i] + 128) & 255)];
/** `at` holds the table applied once to the first n inputs, and `rest` (0, or the input itself) after them */
const check = (at: number, n: number, what: string, rest = (_i: number) => 0) => {
  for (let i = 0; i < MAX; i++) {
    const want = i < n ? expect(i) : rest(i);
    if (heap[at + i] !== want) throw new Error(`${what} (${n} values): byte ${i} is ${heap[at + i]}, want ${want}`);
  }
};
const input = (i: number) => heap[IN + i];
const sizes = [4096, 512, 1536, 4096, 768, 2048, 512, 3072];
for (let k = 0; k < calls; k++) {
  const n = sizes[k % sizes.length];
  heap.fill(0, OUT, OUT + MAX);
  ks.lut(IN, n, LUT, OUT);
  check(OUT, n, `call ${k}`);
  if (threads > 1 && k % 4 === 0) {
    // a tile's call on a worker while this thread runs one of its own, then joined. The posted
    // table lookup works in place, so a post run twice (by its worker and by the caller that took
    // it back) maps some bytes twice: checked after the join and again before the next post
    if (k > 0) check(POSTED, sizes[(k - 4) % sizes.length], `post ${k - 4}, later`, input);
    heap.copyWithin(POSTED, IN, IN + MAX);
    heap.fill(0, HERE, HERE + MAX);
    const w = (k >> 2) % (threads - 1);
    ks.spread.post(w, [{ kernel: 'lut', args: [POSTED, n, LUT, POSTED] }]);
    ks.spread.local.lut(IN, MAX, LUT, HERE);
    ks.spread.join(w);
    check(POSTED, n, `post ${k}`, input);
    check(HERE, MAX, `call here ${k}`);
  }
}
const takenBack = ks.spread.takenBack();
await ks.close();
await Promise.all(hogs.map((h) => h.terminate()));
console.log(`ok ${calls} calls on ${threads} threads; ${takenBack} posts taken back`);
