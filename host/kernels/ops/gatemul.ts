// gatemul (attention-gate multiply, the gate's nearest x2 upsample fused in) ->
// kernel gateMul. Output rows [a, b) read gate rows [a/2, (b+1)/2) and skip rows
// [a, b); tiles start on even rows and columns so a gate pixel is never split.
import type { GateMulOp } from '../../../models/graph.js';
import type { Requant } from '../../../models/qmodel.js';
import { callPixels, sameWindow, elementwiseWork, type OpBinding, type Window } from './op-binding.js';

export interface GateMulData {
  skipZp: number;
  outZp: number;
  requant: Requant;
  actMin: number;
  actMax: number;
}

const half: Window = (a, b) => [a >> 1, (b + 1) >> 1];

export const gatemul: OpBinding<GateMulOp, GateMulData> = {
  kind: 'gatemul',
  planes: () => [],
  geometry: (op) => ({ inputs: [{ tensor: op.attention, rows: half, cols: half }, sameWindow(op.skip)], rowAlign: 2, colAlign: 2, groupable: false }),
  prepare: (op, p, zp) => ({ skipZp: zp(op.skip), outZp: zp(op.output), requant: { ...p.requant }, actMin: p.actMin, actMax: p.actMax }),
  scratchBytes: () => 0,
  bind(kn, d, c) {
    const [gate, skip] = c.inputs;
    const h = c.y1 - c.y0;
    const w = c.x1 - c.x0;
    if (skip.h !== h || skip.w !== w || c.outPixelStride !== skip.c) throw new Error(`internal: gatemul needs a compact ${h}x${w} skip view and output`);
    const { skipZp, outZp, requant: r, actMin, actMax } = d;
    const out = c.out;
    return () => kn.gateMul(gate.ptr, skip.ptr, h, w, skip.c, skipZp, r.multiplier, r.shift, outZp, actMin, actMax, out);
  },
  work: elementwiseWork,
};
