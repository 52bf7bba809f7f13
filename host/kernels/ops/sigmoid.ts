// sigmoid -> kernel lut over the model's 256-entry table (a whole plane: every
// sub-range needs all of it).
import type { SigmoidOp } from '../../../models/graph.js';
import type { QSigmoid } from '../../../models/qmodel.js';
import { callPixels, requirePointwise, sameWindow, elementwiseWork, type OpBinding } from './op-binding.js';
import { int8Plane } from './planes.js';

export const sigmoid: OpBinding<SigmoidOp, Record<string, never>> = {
  kind: 'sigmoid',
  planes: () => [int8Plane<QSigmoid>('lut', 'params', 256, 0, (p) => p.lut)],
  geometry: (op) => ({ inputs: [sameWindow(op.input)], rowAlign: 1, colAlign: 1, groupable: false }),
  prepare: () => ({}),
  scratchBytes: () => 0,
  bind(kn, _d, c) {
    const v = c.inputs[0];
    requirePointwise('sigmoid', c, v.c);
    const n = callPixels(c) * v.c;
    const [lut] = c.params;
    const out = c.out;
    return () => kn.lut(v.ptr, n, lut, out);
  },
  work: elementwiseWork,
};
