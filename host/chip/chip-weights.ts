// The modelled chip's weights: int8 OHWI as the model stores them (k*k*cin bytes per output
// channel, any channel range). The chip's SRAM, DRAM traffic and cycles are counted in this
// layout (`aunet chip`), and the chip engine's memory holds it, whatever layout the host's
// kernels read: the WebAssembly kernels' packed weights take up to 8x the bytes (Winograd F(4x4, 3x3)),
// and a model of the chip that counted those would tile and time a different chip for each
// kernel build. The kernels instead read a copy of each COMPUTE's channels in their own
// layout, made once at load, outside the modelled memories (kernel-copies.ts).
import type { KernelSet } from '../kernels/kernel-set.js';
import type { PlaneTarget, WeightBytes } from '../kernels/ops/op-binding.js';

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
