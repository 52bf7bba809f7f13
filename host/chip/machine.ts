// Functional execution of a compiled program: the engine's heap region is the
// chip's memory (SRAM first, DRAM after it), DMA instructions are real copies
// between the two, and COMPUTE instructions call the KernelSet with SRAM
// pointers only (sramCheck verifies that of the whole stream at load). Prepare
// once, run blind: every instruction becomes a closure over constant arguments
// when the machine is built, so a frame is a walk over an array of closures.
import type { Graph } from '../../models/graph.js';
import type { QModel, QOpParams } from '../../models/qmodel.js';
import { reserveHeap } from '../kernels/heap-reservation.js';
import { CONV3X3_SCRATCH_BYTES, type KernelSet } from '../kernels/kernel-set.js';
import type { Program } from './compiler.js';
import type { ComputeInstr, Instr } from './instructions.js';
import { copyBox } from './dma.js';
import { alignedSram, sramCheck } from './sram.js';

export class Machine {
  /** first heap byte of the region: SRAM at base, DRAM at base + program.dram.base */
  readonly base: number;
  private u8: Uint8Array;
  private readonly steps: (() => void)[];
  readonly graph: Graph;
  /** kernel scratch after the region */
  private readonly scratch: number;

  constructor(readonly program: Program, readonly model: QModel, readonly kernels: KernelSet) {
    sramCheck(program.instrs, alignedSram(program.config));
    this.graph = program.graph;
    this.base = reserveHeap(kernels, program.regionBytes + CONV3X3_SCRATCH_BYTES, 16);
    this.scratch = this.base + program.regionBytes;
    this.u8 = new Uint8Array(kernels.heap);
    this.writeParams();
    this.steps = program.instrs.filter((i) => i.op !== 'SYNC').map((i) => this.prepare(i));
  }

  /** Run one frame: `input` is the 8-bit preprocessed frame (pixel values; int8 = pixel - 128). */
  run(input: Uint8Array): void {
    const h = this.heap();
    const at = this.base + this.program.dram.tensors.get('input')!;
    h.set(input, at);
    for (let i = 0; i < input.length; i++) h[at + i] ^= 0x80;
    const steps = this.steps;
    for (let i = 0; i < steps.length; i++) steps[i]();
  }

  /** A tensor's bytes from DRAM (int8), for the results and for debugging. */
  dramTensor(name: string): Int8Array {
    const at = this.program.dram.tensors.get(name);
    const s = this.graph.tensors.get(name);
    if (at === undefined || !s) throw new Error(`tensor ${name} has no DRAM copy in this program`);
    const p = this.base + at;
    return new Int8Array(this.heap().buffer.slice(p, p + s.h * s.w * s.c));
  }

  heap(): Uint8Array {
    if (this.u8.buffer !== this.kernels.heap) this.u8 = new Uint8Array(this.kernels.heap); // another engine grew it
    return this.u8;
  }

  private writeParams(): void {
    const { kernels, model, base } = this;
    for (const op of this.graph.ops) {
      const a = this.program.dram.params.get(op.name);
      const p = model.ops[op.name] as QOpParams | undefined;
      if (!a || !p) continue;
      const i32 = (at: number, v: Int32Array) => new Int32Array(kernels.heap, base + at, v.length).set(v);
      if (op.kind === 'conv' && p.kind === 'conv') {
        kernels.packConvWeights(op.k, op.cin, op.cout, p.weights, base + a.w);
        i32(a.bias, p.bias);
        i32(a.mult, p.multiplier);
        i32(a.shift, p.shift);
      } else if (op.kind === 'affine' && p.kind === 'affine') {
        new Int8Array(kernels.heap, base + a.w, p.weights.length).set(p.weights);
        i32(a.bias, p.bias);
        i32(a.mult, p.multiplier);
        i32(a.shift, p.shift);
      } else if (op.kind === 'sigmoid' && p.kind === 'sigmoid') {
        new Int8Array(kernels.heap, base + a.lut, 256).set(p.lut);
      }
    }
  }

  private prepare(ins: Instr): () => void {
    if (ins.op === 'COMPUTE') return this.compute(ins);
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

  private compute(ins: ComputeInstr): () => void {
    const k = this.kernels;
    const op = this.graph.ops[ins.layer];
    const p = this.model.ops[op.name] as QOpParams | undefined;
    const zp = (t: string) => this.model.tensors[t].zeroPoint;
    const b = this.base;
    const a = ins.a;
    const [inP, in2, out, w, bias, mult, shift, lut] = [a.in + b, a.in2 + b, a.out + b, a.w + b, a.bias + b, a.mult + b, a.shift + b, a.lut + b];
    const oZp = zp(op.output);
    switch (op.kind) {
      case 'conv': {
        if (p?.kind !== 'conv') break;
        const iZp = zp(op.input);
        const { actMin, actMax } = p;
        if (op.k === 1) return () => k.conv1x1(inP, a.pixels, op.cin, iZp, out, a.outPixelStride, a.cout, w, bias, mult, shift, oZp, actMin, actMax);
        const scratch = this.scratch;
        return () => k.conv3x3(inP, a.inH, a.inW, op.cin, iZp, out, a.outH, a.outW, a.outPixelStride, a.cout, op.stride, a.padTop, a.padLeft, w, bias, mult, shift, oZp, actMin, actMax, scratch, CONV3X3_SCRATCH_BYTES);
      }
      case 'maxpool':
        return () => k.maxpool2x2(inP, a.inH, a.inW, a.c, out);
      case 'upsample':
        return () => k.upsample2x(inP, a.inH, a.inW, a.c, out);
      case 'concat': {
        if (p?.kind !== 'concat') break;
        const [ta, tb] = op.inputs;
        const aZp = zp(ta);
        const bZp = zp(tb);
        const { inputA: ra, inputB: rb } = p;
        const C = a.outPixelStride;
        return () => {
          k.requantCopy(inP, a.pixels, a.c, aZp, ra.multiplier, ra.shift, oZp, out, C);
          k.requantCopy(in2, a.pixels, a.c2, bZp, rb.multiplier, rb.shift, oZp, out + a.c, C);
        };
      }
      case 'add': {
        if (p?.kind !== 'add') break;
        const aZp = zp(op.inputs[0]);
        const bZp = zp(op.inputs[1]);
        const n = a.pixels * a.c;
        const { leftShift, inputA: ra, inputB: rb, output: ro, actMin, actMax } = p;
        return () => k.add(inP, in2, n, aZp, bZp, leftShift, ra.multiplier, ra.shift, rb.multiplier, rb.shift, ro.multiplier, ro.shift, oZp, actMin, actMax, out);
      }
      case 'sigmoid': {
        const n = a.pixels * a.c;
        return () => k.lut(inP, n, lut, out);
      }
      case 'gatemul': {
        if (p?.kind !== 'gatemul') break;
        const sZp = zp(op.skip);
        const { requant: r, actMin, actMax } = p;
        const c = a.c2;
        return () => k.gateMul(inP, in2, a.outH, a.outW, c, sZp, r.multiplier, r.shift, oZp, actMin, actMax, out);
      }
      case 'affine': {
        if (p?.kind !== 'affine') break;
        const iZp = zp(op.input);
        const { actMin, actMax } = p;
        const scratch = this.scratch;
        return () => k.affine(inP, a.pixels, a.c, iZp, w, bias, mult, shift, oZp, actMin, actMax, out, scratch, CONV3X3_SCRATCH_BYTES);
      }
    }
    throw new Error(`internal: op ${op.name} (${op.kind}) has no parameters`);
  }
}
