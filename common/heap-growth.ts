// How far the live service's main heap may grow between full collections. V8 sets the old
// generation's limit after each full (mark-compact) collection to the live heap times a factor it
// derives from how fast the thread allocates on that heap, and counts the ArrayBuffer bytes the
// thread takes in toward the same limit. The live service's main thread allocates little on its
// heap but takes in a few hundred KB of ArrayBuffers a frame (the captured frame, the engine's maps
// arriving transferred, the frame message, the broker's socket reads), so V8 keeps the limit close
// to the live heap and a full collection comes every second or so: `aunet run` (busi-lite, 30 fps
// phantom, the 2-vCPU VM; `--trace-gc`) collected fully every 1.1-1.4 s, 25 times in 30 s, with the
// heap itself growing 1.5 MB between (22-24 MB live), each a 2-25 ms pause plus marking steps on
// the main thread, which holds the frames in hand meanwhile; `--trace-incremental-marking` started
// them at the allocation limit with the heap 9-10 MB under it. A fixed factor of 4 (300 %) lets the
// thread take in three live heaps' worth before the next: the same 30 s had 1 (docs/benchmarks.md).
// V8 reads the flag at every full collection, so setting it in a running process takes effect at
// the next (tests/common/heap-growth.test.ts; not every flag can be set so: --single-threaded-gc
// aborted a running process, docs/benchmarks.md). The flag is process-wide, so every thread's heap
// may grow so; the whole process held about 27 MiB more at the end of a benchmark run.
import { setFlagsFromString } from 'node:v8';

/** V8's flag: the limit after a full collection is the live heap times (1 + this / 100); 0 = V8's own factor */
export const HEAP_GROWING_FLAG = '--heap-growing-percent';

/** The live service's growth between full collections (percent of the live heap): a factor of 4. */
export const FRAMES_HEAP_GROWING_PERCENT = 300;

/** Let the heap grow by `percent` % of its live size between full collections (0: V8's own choice), from the next one on. */
export function setHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000) throw new RangeError(`heap growth must be an integer percent in 0..1000, got ${percent}`);
  setFlagsFromString(`${HEAP_GROWING_FLAG}=${percent}`);
}
