// maxpool (2x2, stride 2) -> kernel maxpool2x2. Output rows [a, b) read input rows [2a, 2b).
import type { MaxPoolOp } from '../../../models/graph.js';
import { callPixels, elementwiseWork, type OpBinding, type Window } from './op-binding.js';

const double: Window = (a, b) => [2 * a, 2 * b];

export const maxpool: OpBinding<MaxPoolOp, Record<string, never>> = {
  kind: 'maxpool',
  planes: () => [],
  geometry: (op) => ({ inputs: [{ tensor: op.input, rows: double, cols: double }], rowAlign: 1, colAlign: 1, groupable: false }),
  prepare: () => ({}),
  scratchBytes: () => 0,
  bind(kn, _d, c) {
    const v = c.inputs[0];
    const out = c.out;
    return () => kn.maxpool2x2(v.ptr, v.h, v.w, v.c, out);
  },
  work: (op, g, c) => elementwiseWork(op, g, c, 4), // 4 compares per output value
};
