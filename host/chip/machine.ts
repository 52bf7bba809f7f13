// Functional execution of a compiled program: the engine's heap region is the
// chip's memory (SRAM first, DRAM after it), DMA instructions are real copies
// between the two (the kernels' copyBox, one call per box), and each COMPUTE is its op's binding call (host/kernels/ops)
// over one tile, with SRAM pointers only (sramCheck verifies that of the whole
// stream at load) — except conv weights: the chip's memory holds them as int8, and the
// kernels read their own packed copy of the tile's channels (kernel-copies.ts; so a params LOAD
// moves every plane but those, which the program still counts: movedBoxes), and a conv split
// into output-channel groups, or into row tiles that cut the host kernel's Winograd tiles,
// computes the whole layer at its first COMPUTE (group-ahead.ts:
// the ops' binding decides the calls, group-ahead only which rows, channels and where), and such a
// layer's LOADs, which only its COMPUTEs read, are not copied (the program still counts them). Prepare once,
// run blind: every instruction becomes a closure over constant arguments when the machine is
// built, so a frame is a walk over an array of closures. Nothing here knows an op kind.
//
// On threaded kernels (host/kernels/threaded-kernels.ts) a layer whose tiles can overlap can
// run as the chip runs it, tiles spread over the threads with its copies in between, each
// whole on this thread (tile-scheduler.ts), or in order with each kernel call, its copies'
// included, divided over the threads; it times both in the first frames and keeps the faster
// (layer-choice.ts). A layer of one tile, or of tiles that must follow each other, runs in order.
//
// Region: [ SRAM | DRAM (params, tensors) | staging | kernel scratch ]. The staging area
// (group-ahead.ts: a conv's whole output at once) and the scratch (the kernels'
// own working memory: conv3x3's widened rows) are not modelled buffers.
import type { Graph } from '../../models/graph.js';
import type { QModel } from '../../models/qmodel.js';
import { reserveHeap } from '../kernels/heap-reservation.js';
import type { KernelFunctions, KernelSet } from '../kernels/kernel-set.js';
import type { OpCall, Scratch } from '../kernels/ops/op-binding.js';
import { writeParams } from '../kernels/ops/param-placement.js';
import type { PreparedOp } from '../kernels/ops/registry.js';
import { readResult, type InferenceResult } from '../engine/engine.js';
import { writeFrame } from '../engine/engine-input.js';
import type { Program } from './compiler.js';
import type { Box, ComputeInstr, DmaInstr, Instr } from './instructions.js';
import { groupsAhead, noAhead, type AheadPlan } from './group-ahead.js';
import { chipPlaneTarget } from './chip-weights.js';
import { kernelCopies } from './kernel-copies.js';
import { alignedSram, sramCheck } from './sram.js';
import { layerDependencies, TileScheduler, type LayerStep } from './tile-scheduler.js';
import { LayerChoice } from './layer-choice.js';
import { recordCalls } from '../kernels/kernel-calls.js';
import type { ThreadedKernelSet } from '../kernels/threaded-kernels.js';

export interface MachineOptions {
  /**
   * On threaded kernels, a layer whose tiles can overlap runs with its tiles spread over the
   * threads, or in order with every kernel call divided (the direct executor's way): by default
   * each such layer times both in the first frames and keeps the faster (layer-choice.ts); true
   * always spreads, false always divides (for comparing).
   */
  spreadTiles?: boolean;
  /** compute a channel-grouped (or Winograd-tile-cutting) conv's whole layer at its first COMPUTE (group-ahead.ts; default true; false: each COMPUTE on its own from SRAM, for comparing) */
  groupsAhead?: boolean;
}

export class Machine {
  /** first heap byte of the region: SRAM at base, DRAM at base + program.dram.base */
  readonly base: number;
  readonly graph: Graph;
  /** layers whose tiles can run spread over the threads (by choice, or always with spreadTiles true) */
  readonly spreadLayers: number;
  /** convs computed a layer at a time (group-ahead.ts: channel-grouped, or tiled by rows that cut the kernels' Winograd tiles) */
  readonly aheadLayers: number;
  private u8: Uint8Array;
  /** per layer: how it runs (its instructions in order, its tiles spread, or the faster of the two) */
  private readonly layers: (() => void)[];
  private readonly choices: LayerChoice[] = [];
  private readonly scratch: Scratch;
  /** COMPUTEs of convs done a layer at a time (group-ahead.ts) */
  private readonly ahead: AheadPlan;

  /** `ops`: the model's ops prepared by their bindings (host/engine/prepared-model.ts), in graph order */
  constructor(readonly program: Program, readonly model: QModel, readonly kernels: KernelSet, ops: readonly PreparedOp[], options: MachineOptions = {}) {
    sramCheck(program.instrs, alignedSram(program.config));
    this.graph = program.graph;
    const stagingAt = Math.ceil(program.regionBytes / 16) * 16;
    this.ahead = options.groupsAhead === false ? noAhead() : groupsAhead(program, stagingAt, (i) => ops[i].geometry(program.graph));
    // the COMPUTEs bound to kernels: the program's, a layer's wide call in place of the groups done ahead
    const bound = program.instrs.flatMap((ins, i): ComputeInstr[] => {
      if (ins.op !== 'COMPUTE') return [];
      const a = this.ahead.steps.get(i);
      return a ? (a.wide ? [a.wide] : []) : [ins];
    });
    let scratchBytes = 0;
    for (const ins of bound) scratchBytes = Math.max(scratchBytes, ops[ins.layer].scratchBytes(ins.call));
    const scratchAt = stagingAt + Math.ceil(this.ahead.bytes / 16) * 16;
    this.base = reserveHeap(kernels, scratchAt + scratchBytes, 16);
    this.scratch = { ptr: this.base + scratchAt, bytes: scratchBytes };
    writeParams(chipPlaneTarget(kernels), program.dram.params, this.graph, model, this.base + program.dram.base);
    const callOf = kernelCopies(bound, program, model, kernels, this.base);
    this.u8 = new Uint8Array(kernels.heap); // the copies' region may have grown the heap
    const threaded = 'spread' in kernels && (kernels as ThreadedKernelSet).threads > 1 && options.spreadTiles !== false ? (kernels as ThreadedKernelSet) : null;
    let spread = 0;
    this.layers = program.layers.map((L) => {
      const at = Array.from({ length: L.end - L.first }, (_, k) => L.first + k).filter((i) => program.instrs[i].op !== 'SYNC');
      const instrs = at.map((i) => program.instrs[i]);
      const deps = layerDependencies(instrs);
      const closures = instrs.map((ins, k) => this.prepare(ins, at[k], ops, callOf, kernels));
      const inOrder = () => {
        for (let i = 0; i < closures.length; i++) closures[i]();
      };
      // a layer done ahead runs in order: its wide call is most of its work, divided over the threads
      if (!threaded || this.ahead.layers.has(L.index) || !tilesOverlap(instrs, deps)) return inOrder;
      // its copies run here between posting tiles, so whole: a divided call would wait for the busy workers
      const steps: LayerStep[] = instrs.map((ins, k) => {
        if (ins.op !== 'COMPUTE') return { dma: this.prepare(ins, at[k], ops, callOf, threaded.spread.local) };
        const calls = recordCalls((kf) => ops[ins.layer].bind(kf, callOf(ins), this.scratch));
        return { calls, pieces: threaded.spread.pieces(calls) };
      });
      const scheduler = new TileScheduler(steps, deps, threaded.spread, threaded.threads - 1);
      spread++;
      if (options.spreadTiles === true) return () => scheduler.run();
      const choice = new LayerChoice([() => scheduler.run(), inOrder]);
      this.choices.push(choice);
      return () => choice.run();
    });
    this.spreadLayers = spread;
    this.aheadLayers = this.ahead.layers.size;
  }

  /** Run one frame: `input` is the 8-bit preprocessed frame (pixel values; int8 = pixel - 128). */
  run(input: Uint8Array): InferenceResult {
    writeFrame(this.heap(), this.dramAt('input'), input, this.graph.arch);
    for (let i = 0; i < this.layers.length; i++) this.layers[i]();
    return readResult(this.heap(), this.graph, (t) => this.dramAt(t));
  }

  /** Frames until every layer has chosen its way (layer-choice.ts): 0 once they have. */
  get tuningFrames(): number {
    return Math.max(0, ...this.choices.map((c) => c.runsLeft));
  }

  /** Of the layers that time both ways (layer-choice.ts): how many chose each, and how many still time them. */
  layerWays(): { spread: number; inOrder: number; timing: number } {
    const n = (way: LayerChoice['way']) => this.choices.filter((c) => c.way === way).length;
    return { spread: n('spread'), inOrder: n('in order'), timing: n(null) };
  }

  heap(): Uint8Array {
    if (this.u8.buffer !== this.kernels.heap) this.u8 = new Uint8Array(this.kernels.heap); // another engine grew it
    return this.u8;
  }

  /** heap address of a tensor's DRAM copy */
  private dramAt(name: string): number {
    const at = this.program.dram.tensors.get(name);
    if (at === undefined) throw new Error(`tensor ${name} has no DRAM copy in this program`);
    return this.base + at;
  }

  /** The closure of instruction `ins` (at `index` in the program); its copies are calls of `dma`. */
  private prepare(ins: Instr, index: number, ops: readonly PreparedOp[], callOf: (ins: ComputeInstr) => OpCall, dma: KernelFunctions): () => void {
    const ahead = this.ahead.steps.get(index);
    if (ahead) {
      const copy = this.copies([ahead.copy], dma);
      if (!ahead.wide) return copy;
      const wide = ops[ahead.wide.layer].bind(this.kernels, callOf(ahead.wide), this.scratch);
      return () => {
        wide();
        copy();
      };
    }
    if (ins.op === 'COMPUTE') return ops[ins.layer].bind(this.kernels, callOf(ins), this.scratch);
    if (ins.op === 'SYNC' || this.ahead.unread.has(index)) return () => {};
    return this.copies(movedBoxes(ins, this.program), dma);
  }

  /**
   * The copies of `boxes` (region offsets) inside the heap: a copyBox call each (WebAssembly's
   * memory.copy per run: in cache 2-5x the speed of V8's copyWithin on the threads' shared memory).
   */
  private copies(regionBoxes: readonly Box[], dma: KernelFunctions): () => void {
    const b = this.base;
    const boxes = regionBoxes.map((x) => [x.src + b, x.dst + b, x.n1, x.s1, x.d1, x.n2, x.s2, x.d2, x.len] as const);
    return () => {
      for (const x of boxes) dma.copyBox(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8]);
    };
  }
}

/**
 * The boxes of a DMA instruction the host moves: all of them, except a params LOAD's slices of
 * the planes the kernels read from their own copy (conv weights, kernel-copies.ts): no kernel
 * reads those bytes in SRAM. They stay in the program, so the modelled traffic and cycles
 * count them (on the seed 11.9 of the 106.8 MB the host copied per frame).
 */
function movedBoxes(ins: DmaInstr, program: Program): readonly Box[] {
  if (ins.op !== 'LOAD' || !ins.tensor.endsWith(':params')) return ins.boxes;
  const planes = program.dram.params.ops[ins.layer]?.planes ?? [];
  return ins.boxes.filter((_, j) => !planes[j]?.plane.kernelCopy);
}

/**
 * Whether spreading a layer's tiles can keep two threads busy: at least two COMPUTEs, and
 * most consecutive pairs independent (a double-buffered layer, or tiles writing a resident
 * tensor); otherwise dividing each call does better.
 */
function tilesOverlap(instrs: readonly Instr[], deps: readonly number[][]): boolean {
  const computes = instrs.flatMap((ins, i) => (ins.op === 'COMPUTE' ? [i] : []));
  if (computes.length < 2) return false;
  let independent = 0;
  for (let k = 1; k < computes.length; k++) if (!reaches(deps, computes[k], computes[k - 1])) independent++;
  return independent * 2 >= computes.length - 1;
}

/** Whether instruction `from` depends, directly or not, on instruction `to` (< from). */
function reaches(deps: readonly number[][], from: number, to: number): boolean {
  const seen = new Set<number>();
  const stack = [from];
  while (stack.length) {
    const i = stack.pop()!;
    for (const d of deps[i]) {
      if (d === to) return true;
      if (d > to && !seen.has(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return false;
}
