// The host kernels' own copies of the conv weights a chip program's COMPUTEs read: the chip's
// memory holds them in its int8 layout (chip-weights.ts), the WebAssembly kernels read their
// packed layout (host/kernels/weight-packing.ts). Made once at load, outside the modelled
// memories, so they cost the modelled chip nothing.
import type { QModel } from '../../models/qmodel.js';
import { reserveHeap } from '../kernels/heap-reservation.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import { relocate, type OpCall } from '../kernels/ops/op-binding.js';
import type { Program } from './compiler.js';
import type { ComputeInstr } from './instructions.js';

/**
 * The kernels' copies of the planes they read in their own layout (ParamPlane.kernelCopy):
 * one per (layer, plane, channel range) the `computes` (the calls the machine binds) use,
 * written once into a heap region reserved here. Returns each COMPUTE's call at heap addresses
 * (the region at `base`), its params pointing at those copies where the plane has one, else
 * where the call points (its SRAM slice).
 */
export function kernelCopies(computes: readonly ComputeInstr[], program: Program, model: QModel, kernels: KernelSet, base: number): (ins: ComputeInstr) => OpCall {
  const offsets = new Map<string, number>();
  const writes: { at: number; write(at: number): void }[] = [];
  let bytes = 0;
  const key = (ins: ComputeInstr, j: number) => `${ins.layer}:${j}:${ins.call.o0}:${ins.call.o1}`;
  for (const ins of computes) {
    const p = model.ops[program.graph.ops[ins.layer].name];
    program.dram.params.ops[ins.layer]?.planes.forEach(({ plane }, j) => {
      if (!plane.kernelCopy || offsets.has(key(ins, j))) return;
      const copy = plane.kernelCopy(kernels, p, ins.call.o0, ins.call.o1);
      offsets.set(key(ins, j), bytes);
      writes.push({ at: bytes, write: copy.write });
      bytes += Math.ceil(copy.bytes / 64) * 64;
    });
  }
  // a copy's vector over-reads land in the next copy, or in the slack every KernelSet keeps past its heap's end
  const region = reserveHeap(kernels, bytes, 64);
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
