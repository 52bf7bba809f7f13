// affine (per-channel scale and bias: the attention gate's folded BatchNorm) -> kernel affine.
import type { AffineOp } from '../../../models/graph.js';
import type { QAffine } from '../../../models/qmodel.js';
import { callPixels, requirePointwise, sameWindow, elementwiseWork, type OpBinding } from './op-binding.js';
import { int8Plane, requantPlanes } from './planes.js';

export interface AffineData {
  channels: number;
  inZp: number;
  outZp: number;
  actMin: number;
  actMax: number;
}

export const affine: OpBinding<AffineOp, AffineData> = {
  kind: 'affine',
  planes: (op) => [int8Plane<QAffine>('weights', 'weights', op.channels, 1, (p) => p.weights), ...requantPlanes<QAffine>(op.channels)],
  geometry: (op) => ({ inputs: [sameWindow(op.input)], rowAlign: 1, colAlign: 1, groupable: false }),
  prepare: (op, p, zp) => ({ channels: op.channels, inZp: zp(op.input), outZp: zp(op.output), actMin: p.actMin, actMax: p.actMax }),
  scratchBytes: () => 0,
  bind(kn, d, c) {
    const v = c.inputs[0];
    requirePointwise('affine', c, v.c);
    const pixels = callPixels(c);
    const [w, bias, mult, shift] = c.params;
    const { inZp, outZp, actMin, actMax } = d;
    const out = c.out;
    return () => kn.affine(v.ptr, pixels, v.c, inZp, w, bias, mult, shift, outZp, actMin, actMax, out);
  },
  work: elementwiseWork,
};
