// upsample (nearest, x2) -> kernel upsample2x. Output rows [a, b) read input rows
// [a/2, (b+1)/2); tiles start on even rows and columns.
import type { UpsampleOp } from '../../../models/graph.js';
import { callPixels, elementwiseWork, type OpBinding, type Window } from './op-binding.js';

const half: Window = (a, b) => [a >> 1, (b + 1) >> 1];

export const upsample: OpBinding<UpsampleOp, Record<string, never>> = {
  kind: 'upsample',
  planes: () => [],
  geometry: (op) => ({ inputs: [{ tensor: op.input, rows: half, cols: half }], rowAlign: 2, colAlign: 2, groupable: false }),
  prepare: () => ({}),
  scratchBytes: () => 0,
  bind(kn, _d, c) {
    const v = c.inputs[0];
    const out = c.out;
    return () => kn.upsample2x(v.ptr, v.h, v.w, v.c, out);
  },
  work: elementwiseWork,
};
