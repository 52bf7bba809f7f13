// A layer's instructions run over the kernel threads as the modelled chip runs them over
// its units and DMA engines: an instruction starts once the SRAM buffers it reads are
// written and the ones it writes are no longer read (the dependencies timing.ts derives,
// from the same reads/writes lists), so while a worker thread computes tile n this thread
// copies tile n+1's input into the other buffer of a double-buffered layer and computes a
// tile of its own. Each COMPUTE runs whole on one thread (the calls its op binding makes,
// recorded at load: host/kernels/kernel-calls.ts); DMA copies run on this thread, in
// stream order among themselves (DRAM-side order needs no tracking then). Two tiles of one
// layer never write the same bytes (the tiler's output rectangles are disjoint), so tiles
// writing one resident tensor are not ordered against each other; whatever reads that
// tensor afterwards waits for all of them.
//
// A tile that nothing else could run beside — every worker idle and no other instruction
// ready: a layer's last tile, or one whose successor waits for it (weights reloaded into the
// buffer it reads) — runs with each call divided over all the threads instead of whole on
// one (otherwise one thread would idle for a whole tile). A tile this thread runs beside a
// worker runs a piece at a time (its calls cut as a divided call would be: spread.pieces), and between pieces
// this thread retires a finished worker and starts what became ready — that worker's next
// tile, the copies before it: run whole, a tile here left a worker that finished first idle
// until this thread's tile ended (seed at 2 threads, the worker's idle share of a frame:
// 18-30 % whole, 13-22 % in pieces, alternated; docs/benchmarks.md).
//
// Results are byte-identical to running the stream in order: every instruction reads what
// the in-order run would have it read. Only host time changes; the timing model keeps
// counting the modelled chip's cycles (timing.ts), whatever the host does.
import type { KernelFunctions } from '../kernels/kernel-set.js';
import type { KernelCall } from '../kernels/kernel-calls.js';
import type { ThreadedKernelSet } from '../kernels/threaded-kernels.js';
import type { Instr } from './instructions.js';

/**
 * One instruction of a layer: a DMA copy (run here) or a COMPUTE's kernel calls, and optionally
 * the same calls cut into pieces over disjoint outputs (host/kernels/kernel-split.ts) for running
 * on this thread a piece at a time.
 */
export type LayerStep = { dma: () => void } | { calls: readonly KernelCall[]; pieces?: readonly (readonly KernelCall[])[] };

/**
 * Per instruction of one layer (no SYNC), the earlier instructions of the layer it waits
 * for: the writers of what it reads, the readers (and, unless both are COMPUTEs, the
 * writer) of what it writes since that was last written.
 */
export function layerDependencies(instrs: readonly Instr[]): number[][] {
  const writers = new Map<number, number[]>();
  const readers = new Map<number, number[]>();
  return instrs.map((ins, i) => {
    if (ins.op === 'SYNC') throw new Error('internal: a SYNC inside a layer');
    const deps = new Set<number>();
    for (const b of ins.reads) {
      for (const w of writers.get(b) ?? []) deps.add(w);
      readers.set(b, [...(readers.get(b) ?? []), i]);
    }
    for (const b of ins.writes) {
      const r = readers.get(b) ?? [];
      const w = writers.get(b) ?? [];
      for (const j of r) deps.add(j);
      // disjoint tiles: COMPUTEs writing one buffer with no read in between need no order
      const tilesOnly = r.length === 0 && ins.op === 'COMPUTE' && w.every((j) => instrs[j].op === 'COMPUTE');
      if (!tilesOnly) for (const j of w) deps.add(j);
      writers.set(b, tilesOnly ? [...w, i] : [i]);
      readers.set(b, []);
    }
    deps.delete(i);
    return [...deps].sort((a, b) => a - b);
  });
}

/** How far past the first unfinished instruction the scheduler looks for one it can start. */
const WINDOW = 24;

/** Runs one layer over this thread and the workers of a threaded kernel set. */
export class TileScheduler {
  private readonly done: Uint8Array;
  private readonly started: Uint8Array;
  /** instruction each worker runs, -1: idle */
  private readonly onWorker: Int32Array;
  private readonly computes: number;

  constructor(
    private readonly steps: readonly LayerStep[],
    private readonly deps: readonly number[][],
    private readonly spread: ThreadedKernelSet['spread'],
    workers: number,
  ) {
    this.done = new Uint8Array(steps.length);
    this.started = new Uint8Array(steps.length);
    this.onWorker = new Int32Array(workers).fill(-1);
    this.computes = steps.filter((s) => 'calls' in s).length;
  }

  run(): void {
    const { steps, deps, done, started, onWorker, spread } = this;
    done.fill(0);
    started.fill(0);
    let left = steps.length;
    let computesLeft = this.computes;
    let next = 0;
    // the tile this thread runs a piece at a time, between pieces starting what became ready
    let mine = -1;
    let pieces: readonly (readonly KernelCall[])[] = [];
    let piece = 0;
    try {
      while (left > 0) {
        for (let w = 0; w < onWorker.length; w++) {
          if (onWorker[w] >= 0 && spread.done(w)) left -= this.retire(w);
        }
        if (left === 0) break;
        const w = onWorker.indexOf(-1);
        // a tile can start if a worker is idle or this thread is free
        const i = this.pick(next, w >= 0 || mine < 0);
        if (i < 0) {
          if (mine >= 0) {
            runHere(spread.local, pieces[piece++]);
            if (piece === pieces.length) {
              done[mine] = 1;
              left--;
              mine = -1;
            }
          } else left -= this.retire(this.oldestWorker()); // nothing can start: wait for a worker
          continue;
        }
        started[i] = 1;
        const s = steps[i];
        let here = true;
        if ('dma' in s) s.dma();
        else {
          computesLeft--;
          if (mine < 0 && (computesLeft === 0 || this.pick(next) < 0) && onWorker.every((x) => x < 0)) runHere(spread.divided, s.calls);
          else if (w >= 0 && spread.fits(s.calls)) {
            spread.post(w, s.calls);
            onWorker[w] = i;
            here = false;
          } else if (s.pieces && mine < 0) {
            mine = i;
            pieces = s.pieces;
            piece = 0;
            here = false;
          } else runHere(spread.local, s.calls);
        }
        if (here) {
          done[i] = 1;
          left--;
        }
        while (next < steps.length && started[next]) next++;
      }
    } finally {
      // a failure leaves no worker running into the next frame
      for (let w = 0; w < onWorker.length; w++) {
        if (onWorker[w] >= 0) {
          onWorker[w] = -1;
          spread.join(w);
        }
      }
    }
  }

  /** The first instruction from `next` on that can start now (COMPUTEs only if `computes`), -1 if none. */
  private pick(next: number, computes = true): number {
    const { steps, deps, done, started } = this;
    let dmaWaits = false;
    const end = Math.min(steps.length, next + WINDOW);
    for (let i = next; i < end; i++) {
      if (started[i]) continue;
      const dma = 'dma' in steps[i];
      if (!dma && !computes) continue;
      if (dma && dmaWaits) continue; // DMA copies stay in stream order
      if (deps[i].every((d) => done[d] === 1)) return i;
      if (dma) dmaWaits = true;
    }
    return -1;
  }

  /** Wait for worker w, mark its instruction done; returns 1. */
  private retire(w: number): number {
    const i = this.onWorker[w];
    this.onWorker[w] = -1;
    this.spread.join(w);
    this.done[i] = 1;
    return 1;
  }

  private oldestWorker(): number {
    let best = -1;
    for (let w = 0; w < this.onWorker.length; w++) {
      if (this.onWorker[w] >= 0 && (best < 0 || this.onWorker[w] < this.onWorker[best])) best = w;
    }
    if (best < 0) throw new Error('internal: no instruction can start and no worker is busy');
    return best;
  }
}

function runHere(k: KernelFunctions, calls: readonly KernelCall[]): void {
  for (const c of calls) (k[c.kernel] as (...a: number[]) => void)(...c.args);
}
