// The off-chip memory: the rest of the engine's heap region after the SRAM.
// Holds every layer's params (conv weights in the kernels' packed layout, then
// bias, multiplier and shift as int32; LUTs; affine weights), the input frame,
// the results, and every feature map that is ever stored or spilled.
import type { Graph } from '../../models/graph.js';
import { ChipConfigError, type ChipConfig } from './chip-config.js';
import type { ResidencyPlan } from './residency.js';
import { align, type LayerGeom } from './tiling.js';

export interface ParamAddrs {
  /** first byte of the op's params */
  at: number;
  w: number;
  bias: number;
  mult: number;
  shift: number;
  lut: number;
  /** bytes of one output channel's weights (conv: packed size; affine: 1) */
  perChannel: number;
}

export interface DramLayout {
  /** first DRAM byte in the region (= aligned SRAM size) */
  base: number;
  bytes: number;
  params: Map<string, ParamAddrs>;
  paramBytes: number;
  tensors: Map<string, number>;
}

export function dramLayout(g: Graph, geoms: LayerGeom[], plan: ResidencyPlan, sramBytes: number, config: ChipConfig): DramLayout {
  const base = align(sramBytes);
  let at = base;
  const take = (n: number) => {
    const a = at;
    at += align(n);
    return a;
  };
  const params = new Map<string, ParamAddrs>();
  g.ops.forEach((op, i) => {
    const L = geoms[i];
    if (op.kind === 'conv') {
      const perChannel = (L.paramTotal / op.cout) - 12;
      const w = take(op.cout * perChannel);
      params.set(op.name, { at: w, w, bias: take(4 * op.cout), mult: take(4 * op.cout), shift: take(4 * op.cout), lut: 0, perChannel });
    } else if (op.kind === 'affine') {
      const w = take(op.channels);
      params.set(op.name, { at: w, w, bias: take(4 * op.channels), mult: take(4 * op.channels), shift: take(4 * op.channels), lut: 0, perChannel: 1 });
    } else if (op.kind === 'sigmoid') {
      const lut = take(256);
      params.set(op.name, { at: lut, w: 0, bias: 0, mult: 0, shift: 0, lut, perChannel: 0 });
    }
  });
  const paramBytes = at - base;
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
