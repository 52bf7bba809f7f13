// The modelled chip's weights: int8 OHWI as the model stores them (k*k*cin bytes per output
// channel, any channel range). The chip's SRAM, DRAM traffic and cycles are counted in this
// layout (`aunet chip`), and the chip engine's memory holds it, whatever layout the host's
// kernels read: the WebAssembly kernels' packed weights take up to 3.5x the bytes (Winograd),
// and a model of the chip that counted those would tile and time a different chip for each
// kernel build. The kernels instead read a copy of each COMPUTE's channels in their own
// layout, made once at load, outside the modelled memories (machine.ts).
import type { QModel } from '../../models/qmodel.js';
import { reserveHeap } from '../kernels/heap-reservation.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import { relocate, type OpCall, type PlaneTarget, type WeightBytes } from '../kernels/ops/op-binding.js';
import { HEAP_SLACK } from '../kernels/wasm-kernels.js';
import type { Program } from './compiler.js';
import type { ComputeInstr } from './instructions.js';

export const CHIP_WEIGHT_BYTES: WeightBytes = {
  convWeightBytes: (k, cin) => k * k * cin,
  convChannelGroup: () => 1,
};

/** Writes planes into `kernels`' heap with conv weights in the chip's int8 layout. */
export function chipPlaneTarget(kernels: KernelSet): PlaneTarget {
  return {
    get heap() { return kernels.heap; },
    packConvWeights: (_k, _cin, _cout, ohwi, dst) => new Int8Array(kernels.heap, dst, ohwi.length).set(ohwi),
  };
}

/**
 * The kernels' copies of the planes they read in their own layout (ParamPlane.kernelCopy):
 * one per (layer, plane, channel range) the program's COMPUTEs use, written once into a heap
 * region reserved here. Returns each COMPUTE's call at heap addresses (the region at `base`),
 * its params pointing at those copies where the plane has one, else at its SRAM slice.
 */
export function kernelCopies(program: Program, model: QModel, kernels: KernelSet, base: number): (ins: ComputeInstr) => OpCall {
  const offsets = new Map<string, number>();
  const writes: { at: number; write(at: number): void }[] = [];
  let bytes = 0;
  const key = (ins: ComputeInstr, j: number) => `${ins.layer}:${j}:${ins.call.o0}:${ins.call.o1}`;
  for (const ins of program.instrs) {
    if (ins.op !== 'COMPUTE') continue;
    const p = model.ops[program.graph.ops[ins.layer].name];
    program.dram.params.ops[ins.layer]?.planes.forEach(({ plane }, j) => {
      if (!plane.kernelCopy || offsets.has(key(ins, j))) return;
      const copy = plane.kernelCopy(kernels, p, ins.call.o0, ins.call.o1);
      offsets.set(key(ins, j), bytes);
      writes.push({ at: bytes, write: copy.write });
      bytes += Math.ceil(copy.bytes / 64) * 64;
    });
  }
  const region = reserveHeap(kernels, bytes + HEAP_SLACK, 64); // slack: the kernels' vector loads may read past a copy's end
  for (const w of writes) w.write(region + w.at);
  return (ins) => {
    const call = relocate(ins.call, base);
    call.params = call.params.map((ptr, j) => {
      const at = offsets.get(key(ins, j));
      return at === undefined ? ptr : region + at;
    });
    return call;
  };
}
