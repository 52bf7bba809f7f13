// A persistent pool of kernel threads (host/kernels/kernel-worker.mjs) over one shared
// memory. Each worker owns a control slot in a shared Int32Array: the caller writes a short
// list of kernel calls (kernel index, argument count, arguments; run in order), stores the
// worker's next sequence number in `seq` and notifies; the worker runs the calls and stores
// that number into `done`. Each worker is posted to and joined on its own, so a caller can
// keep several workers busy with different work (one part of a divided call each, or one
// chip tile each) and collect them in any order. Waiting spins for SPIN_MS before it sleeps.
// A post is claimed by whoever runs it: the worker when it wakes, or the caller when it joins a
// post the worker has not started (the OS had not scheduled that thread yet) and runs the calls
// itself, since it would otherwise only wait. `taken` holds the last post claimed, and post n is
// claimed by compare-and-swap from n - 1 to n: a worker that read n and was then held up while
// the caller took n back, posted n + 1 and took that back too cannot claim n any more (with an
// exchange it could: it ran the slot's newer calls a second time, found by divide-stress.ts).
//
// A divided call goes on the shared job board instead (`divide`): its parts, more of them than
// threads, are claimed one at a time by whichever thread is free — this one and every idle
// worker — as pthreadpool's work stealing does in XNNPACK. With a fixed part per thread, a
// worker the OS had not scheduled yet (the box's source worker, the event loop, another
// process on a 2-core box) held the whole call up while this thread waited; now the threads
// that run take its parts. A worker that wakes after the call is done finds no part left.
import { Worker } from 'node:worker_threads';
import { KERNEL_FUNCTIONS } from './kernel-set.js';
import { MAX_PARTS } from './kernel-split.js';

/** Int32 offsets in a worker's control slot: header (`taken`: the last post claimed), then the calls from `calls` on */
export const SLOT = { seq: 0, done: 1, error: 2, count: 3, taken: 4, calls: 5, size: 64 } as const;
/** Sequence numbers run 1..SEQ_MAX and wrap (a box posts a few thousand a second for weeks; negative means close) */
const SEQ_MAX = 0x3fffffff;
/** The post before post n: the value `taken` holds while n is unclaimed (kernel-worker.mjs computes it the same way) */
const previousSeq = (n: number) => (n === 1 ? SEQ_MAX : n - 1);
/** spin this long (ms) before sleeping on a futex: a frame's next call usually comes sooner */
export const SPIN_MS = 0.2;
/**
 * Int32 offsets in the job board (after the slots): `claim` = tag * 256 + next unclaimed part
 * (claimed by compare-and-swap, so a part of an old call can never be claimed for a new one:
 * the tag changes with every call), parts completed, the first kernel error, the kernel's index,
 * arguments per part, parts, the index of the scratch pointer among the arguments (-1: none),
 * then the parts' arguments.
 */
export const JOB = { claim: 0, completed: 1, error: 2, kernel: 3, argc: 4, parts: 5, scratchArg: 6, args: 8, size: 8 + MAX_PARTS * 32 } as const;
/** The kernel index of a slot call that sends a worker to the job board: args tag, scratch pointer, scratch bytes. */
export const JOB_CALL = -1;
/** `claim`'s low 8 bits while the board is rewritten: no part that high exists (MAX_PARTS < 255) */
const CLOSED = 255;
const TAGS = 1 << 23;

/** One kernel call: its index in KERNEL_FUNCTIONS and its arguments. */
export interface PoolCall {
  kernel: number;
  args: readonly number[];
}

/** Whether `calls` fit one control slot (each takes 2 + its arguments). */
export function fitsSlot(calls: readonly PoolCall[]): boolean {
  return calls.reduce<number>((n, c) => n + 2 + c.args.length, SLOT.calls) <= SLOT.size;
}

/** What a kernel thread gets (kernel-worker.mjs is plain JavaScript: the constants travel with it). */
interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  index: number;
  functions: readonly string[];
  slot: typeof SLOT;
  job: typeof JOB;
  jobCall: number;
  spinMs: number;
  seqMax: number;
  holdBeforeClaim: number;
}

export class KernelPool {
  private readonly seq: Int32Array;
  private readonly board: Int32Array;
  private tag = 0;

  private constructor(
    private readonly workers: Worker[],
    private readonly control: Int32Array,
    /** the workers' OS thread ids, where the OS says (Linux) */
    readonly threadIds: readonly number[],
  ) {
    this.seq = new Int32Array(workers.length);
    this.board = control.subarray(workers.length * SLOT.size);
  }

  /**
   * Start `n` workers, each with an instance of `module` over `memory`; resolves when all are ready.
   * `holdBeforeClaim` (tests only): the share of posts a worker waits 0.5 ms for between reading and
   * claiming them, as a thread the OS holds up there would.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, n: number, holdBeforeClaim = 0): Promise<KernelPool> {
    const sab = new SharedArrayBuffer((n * SLOT.size + JOB.size) * 4);
    // no post claimed yet: post 1 is claimed from the value before it
    for (let i = 0; i < n; i++) new Int32Array(sab)[i * SLOT.size + SLOT.taken] = previousSeq(1);
    const workers = Array.from({ length: n }, (_, index) =>
      // execArgv []: not the parent's `--import tsx`, which starts tsx and its esbuild service
      // in every thread (0.5-1 s each on the 2-core box; this plain-JS worker needs neither)
      new Worker(new URL('./kernel-worker.mjs', import.meta.url), {
        execArgv: [],
        workerData: { module, memory, control: sab, index, functions: KERNEL_FUNCTIONS, slot: SLOT, job: JOB, jobCall: JOB_CALL, spinMs: SPIN_MS, seqMax: SEQ_MAX, holdBeforeClaim } satisfies WorkerInit,
      }));
    let tids: (number | null)[];
    try {
      // each worker's first message: ready, with its OS thread id
      tids = await Promise.all(workers.map((w) => {
        let onExit: (code: number) => void = () => {};
        return new Promise<number | null>((resolve, reject) => {
          onExit = (code) => reject(new Error(`kernel worker exited with code ${code} while starting`));
          w.once('message', (m: { tid: number | null }) => resolve(m.tid)).once('error', reject).once('exit', onExit);
        }).finally(() => w.off('exit', onExit));
      }));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    for (const w of workers) w.unref(); // an idle pool does not keep the process alive
    return new KernelPool(workers, new Int32Array(sab), tids.filter((t): t is number => t !== null));
  }

  get size(): number { return this.workers.length; }

  /** Start `calls` (in order) on worker `i`, which must be idle (joined since its last post). */
  post(i: number, calls: readonly PoolCall[]): void {
    if (!fitsSlot(calls)) throw new RangeError(`internal: ${calls.length} kernel calls do not fit a worker's control slot`);
    const c = this.slot(i);
    let at: number = SLOT.calls;
    for (const { kernel, args } of calls) {
      c[at] = kernel;
      c[at + 1] = args.length;
      c.set(args, at + 2);
      at += 2 + args.length;
    }
    c[SLOT.count] = calls.length;
    this.seq[i] = this.seq[i] >= SEQ_MAX ? 1 : this.seq[i] + 1;
    Atomics.store(c, SLOT.seq, this.seq[i]);
    Atomics.notify(c, SLOT.seq);
  }

  /**
   * Run the parts of one divided call (`kernel`'s index; every part the same argument count) on
   * this thread and every idle worker: each claims the next part until none is left. Worker i
   * puts `scratch(i)` in place of a part's scratch pointer and size (argument `scratchArg`, -1:
   * none); this thread runs `runHere` on the parts it claims, as given. Returns when every part
   * is done: the first kernel error of a worker (0: none); what `runHere` threw is rethrown.
   */
  divide(kernel: number, parts: readonly (readonly number[])[], scratchArg: number, scratch: (i: number) => readonly [number, number], runHere: (args: readonly number[]) => void): number {
    const b = this.board;
    const n = parts.length;
    const argc = parts[0].length;
    if (n > MAX_PARTS || JOB.args + n * argc > JOB.size) throw new RangeError(`internal: ${n} parts of ${argc} arguments do not fit the job board`);
    // close the board first: a worker that read the last job's exhausted claim word and then
    // this job's part count would otherwise claim a part of neither (its CAS must fail now)
    Atomics.store(b, JOB.claim, this.tag * 256 + CLOSED);
    b[JOB.kernel] = kernel;
    b[JOB.argc] = argc;
    b[JOB.parts] = n;
    b[JOB.scratchArg] = scratchArg;
    b[JOB.error] = 0;
    b[JOB.completed] = 0;
    parts.forEach((p, i) => b.set(p, JOB.args + i * argc));
    const tag = this.tag = (this.tag + 1) % TAGS;
    Atomics.store(b, JOB.claim, tag * 256); // publishes the job: the stores above happen before it
    // a worker still busy (a tile, or waking late for an earlier call) is not waited for
    for (let i = 0; i < this.workers.length; i++) if (this.done(i)) this.post(i, [{ kernel: JOB_CALL, args: [tag, ...scratch(i)] }]);
    let thrown: { e: unknown } | null = null;
    for (let p = claimPart(b, tag); p >= 0; p = claimPart(b, tag)) {
      try {
        runHere(parts[p]);
      } catch (e) {
        thrown ??= { e };
      }
      Atomics.add(b, JOB.completed, 1);
    }
    spinUntil(b, JOB.completed, n);
    for (let c = Atomics.load(b, JOB.completed); c !== n; c = Atomics.load(b, JOB.completed)) Atomics.wait(b, JOB.completed, c);
    if (thrown) throw thrown.e;
    return b[JOB.error];
  }

  /** Whether worker i has finished what it was last posted (does not wait). */
  done(i: number): boolean {
    return Atomics.load(this.slot(i), SLOT.done) === this.seq[i];
  }

  /**
   * Wait for worker i's last post; returns its kernel error code (0: none). With `runHere`, a
   * post the worker has not claimed yet is claimed here and `runHere` runs its calls on this
   * thread instead (what it throws is rethrown).
   */
  join(i: number, runHere?: () => void): number {
    const c = this.slot(i);
    const want = this.seq[i];
    const before = previousSeq(want);
    if (runHere && Atomics.load(c, SLOT.done) !== want && Atomics.compareExchange(c, SLOT.taken, before, want) === before) {
      c[SLOT.error] = 0;
      try {
        runHere();
      } finally {
        Atomics.store(c, SLOT.done, want); // the worker, finding the post taken, stores nothing
      }
      return 0;
    }
    spinUntil(c, SLOT.done, want);
    for (let d = Atomics.load(c, SLOT.done); d !== want; d = Atomics.load(c, SLOT.done)) Atomics.wait(c, SLOT.done, d);
    return c[SLOT.error];
  }

  async close(): Promise<void> {
    for (let i = 0; i < this.workers.length; i++) {
      const c = this.slot(i);
      Atomics.store(c, SLOT.seq, -1);
      Atomics.notify(c, SLOT.seq);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private slot(i: number): Int32Array {
    return this.control.subarray(i * SLOT.size, (i + 1) * SLOT.size);
  }
}

/**
 * Spin for at most SPIN_MS while a[i] !== want. The clock is read every 64th turn: each read
 * allocates a heap number, and a thread that spins many times a frame otherwise collects garbage
 * every few frames.
 */
function spinUntil(a: Int32Array, i: number, want: number): void {
  const until = performance.now() + SPIN_MS;
  for (let k = 1; Atomics.load(a, i) !== want; k++) if ((k & 63) === 0 && performance.now() >= until) return;
}

/**
 * Claim the next part of the job tagged `tag` on board `b`: its index, or -1 when none is left
 * or the board holds another job. kernel-worker.mjs claims the same way (plain JavaScript: it
 * cannot import this).
 */
function claimPart(b: Int32Array, tag: number): number {
  for (;;) {
    const v = Atomics.load(b, JOB.claim);
    const p = v & 255;
    if (v >>> 8 !== tag || p >= b[JOB.parts]) return -1;
    if (Atomics.compareExchange(b, JOB.claim, v, v + 1) === v) return p;
  }
}
