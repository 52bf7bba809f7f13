// Functional execution of a compiled program: the engine's heap region is the
// chip's memory (SRAM first, DRAM after it), DMA instructions are real copies
// between the two, and each COMPUTE is its op's binding call (host/kernels/ops)
// over one tile, with SRAM pointers only (sramCheck verifies that of the whole
// stream at load). Prepare once, run blind: every instruction becomes a closure
// over constant arguments when the machine is built, so a frame is a walk over
// an array of closures. Nothing here knows an op kind.
//
// Region: [ SRAM | DRAM (params, tensors) | kernel scratch ]. The scratch is the
// kernels' own working memory (conv3x3's widened rows), not a modelled buffer.
import type { Graph } from '../../models/graph.js';
import type { QModel } from '../../models/qmodel.js';
import { reserveHeap } from '../kernels/heap-reservation.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import { relocate, type Scratch } from '../kernels/ops/op-binding.js';
import { writeParams } from '../kernels/ops/param-placement.js';
import type { PreparedOp } from '../kernels/ops/registry.js';
import { readResult, type InferenceResult } from '../engine/engine.js';
import { writeFrame } from '../engine/engine-input.js';
import type { Program } from './compiler.js';
import type { Instr } from './instructions.js';
import { copyBox } from './dma.js';
import { alignedSram, sramCheck } from './sram.js';

export class Machine {
  /** first heap byte of the region: SRAM at base, DRAM at base + program.dram.base */
  readonly base: number;
  readonly graph: Graph;
  private u8: Uint8Array;
  private readonly steps: (() => void)[];
  private readonly scratch: Scratch;

  /** `ops`: the model's ops prepared by their bindings (host/engine/prepared-model.ts), in graph order */
  constructor(readonly program: Program, readonly model: QModel, readonly kernels: KernelSet, ops: readonly PreparedOp[]) {
    sramCheck(program.instrs, alignedSram(program.config));
    this.graph = program.graph;
    let scratchBytes = 0;
    for (const ins of program.instrs) if (ins.op === 'COMPUTE') scratchBytes = Math.max(scratchBytes, ops[ins.layer].scratchBytes(ins.call));
    const scratchAt = Math.ceil(program.regionBytes / 16) * 16;
    this.base = reserveHeap(kernels, scratchAt + scratchBytes, 16);
    this.scratch = { ptr: this.base + scratchAt, bytes: scratchBytes };
    this.u8 = new Uint8Array(kernels.heap);
    writeParams(kernels, program.dram.params, this.graph, model, this.base + program.dram.base);
    this.steps = program.instrs.filter((i) => i.op !== 'SYNC').map((i) => this.prepare(i, ops));
  }

  /** Run one frame: `input` is the 8-bit preprocessed frame (pixel values; int8 = pixel - 128). */
  run(input: Uint8Array): InferenceResult {
    writeFrame(this.heap(), this.dramAt('input'), input, this.graph.arch);
    const steps = this.steps;
    for (let i = 0; i < steps.length; i++) steps[i]();
    return readResult(this.heap(), this.graph, (t) => this.dramAt(t));
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

  private prepare(ins: Instr, ops: readonly PreparedOp[]): () => void {
    if (ins.op === 'COMPUTE') return ops[ins.layer].bind(this.kernels, relocate(ins.call, this.base), this.scratch);
    if (ins.op === 'SYNC') return () => {};
    const b = this.base;
    const boxes = ins.boxes.map((x) => ({ ...x, src: x.src + b, dst: x.dst + b }));
    if (boxes.every((x) => x.n1 * x.n2 === 1)) {
      return () => {
        const h = this.heap();
        for (const x of boxes) h.copyWithin(x.dst, x.src, x.src + x.len);
      };
    }
    return () => {
      const h = this.heap();
      for (const x of boxes) copyBox(h, x);
    };
  }
}
