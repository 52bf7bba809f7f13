// The off-chip memory: the rest of the engine's heap region after the SRAM.
// Holds every layer's params (placed exactly as the direct executor places them:
// host/kernels/ops/param-placement.ts), the input frame, the results, and every
// feature map that is ever stored or spilled.
import type { Graph } from '../../models/graph.js';
import type { WeightBytes } from '../kernels/ops/op-binding.js';
import { placeParams, type ParamPlacement } from '../kernels/ops/param-placement.js';
import { ChipConfigError, type ChipConfig } from './chip-config.js';
import type { ResidencyPlan } from './residency.js';
import { align } from './tiling.js';

export interface DramLayout {
  /** first DRAM byte in the region (= aligned SRAM size) */
  base: number;
  bytes: number;
  /** every op's params; offsets from `base` (the params come first) */
  params: ParamPlacement;
  paramBytes: number;
  /** region offsets of the tensors that live in DRAM */
  tensors: Map<string, number>;
}

export function dramLayout(g: Graph, weightBytes: WeightBytes, plan: ResidencyPlan, sramBytes: number, config: ChipConfig): DramLayout {
  const base = align(sramBytes);
  const params = placeParams(g, weightBytes);
  let at = base + params.bytes;
  const take = (n: number) => {
    const a = at;
    at += align(n);
    return a;
  };
  const paramBytes = params.bytes;
  const tensors = new Map<string, number>();
  const inDram = (t: string) => {
    const l = plan.lives.get(t);
    if (!l) return true; // the input frame and the final probability map
    return l.segments.some((s) => !s.on) || plan.spillAfter.some((s) => s.includes(t));
  };
  for (const [name, s] of g.tensors) if (inDram(name)) tensors.set(name, take(s.h * s.w * s.c));
  const bytes = at - base;
  if (bytes > config.dram.bytes) {
    throw new ChipConfigError(`dram.bytes: the model needs ${bytes} bytes of DRAM (params ${paramBytes}), the chip has ${config.dram.bytes}`, 'dram.bytes');
  }
  return { base, bytes, params, paramBytes, tensors };
}
