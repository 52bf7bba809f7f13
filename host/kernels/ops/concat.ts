// concat (channels [a, b]) -> two requantCopy calls, each into its channel half
// of the output pixels (both inputs requantized to the output's scale).
import type { ConcatOp } from '../../../models/graph.js';
import type { Requant } from '../../../models/qmodel.js';
import { callPixels, requirePointwise, sameWindow, elementwiseWork, type OpBinding } from './op-binding.js';

export interface ConcatData {
  aZp: number;
  bZp: number;
  outZp: number;
  inputA: Requant;
  inputB: Requant;
}

export const concat: OpBinding<ConcatOp, ConcatData> = {
  kind: 'concat',
  planes: () => [],
  geometry: (op) => ({ inputs: op.inputs.map(sameWindow), rowAlign: 1, colAlign: 1, groupable: false }),
  prepare: (op, p, zp) => ({ aZp: zp(op.inputs[0]), bZp: zp(op.inputs[1]), outZp: zp(op.output), inputA: { ...p.inputA }, inputB: { ...p.inputB } }),
  scratchBytes: () => 0,
  bind(kn, d, c) {
    const [a, b] = c.inputs;
    requirePointwise('concat', c, a.c + b.c);
    const pixels = callPixels(c);
    const { aZp, bZp, outZp, inputA: ra, inputB: rb } = d;
    const out = c.out;
    const stride = c.outPixelStride;
    return () => {
      kn.requantCopy(a.ptr, pixels, a.c, aZp, ra.multiplier, ra.shift, outZp, out, stride);
      kn.requantCopy(b.ptr, pixels, b.c, bZp, rb.multiplier, rb.shift, outZp, out + a.c, stride);
    };
  },
  work: elementwiseWork,
};
