// add (element-wise, TFLite int8 ADD arithmetic) -> kernel add.
import type { AddOp } from '../../../models/graph.js';
import type { QAdd } from '../../../models/qmodel.js';
import { callPixels, requirePointwise, sameWindow, elementwiseWork, type OpBinding } from './op-binding.js';

export interface AddData extends Omit<QAdd, 'kind'> {
  aZp: number;
  bZp: number;
  outZp: number;
}

export const add: OpBinding<AddOp, AddData> = {
  kind: 'add',
  planes: () => [],
  geometry: (op) => ({ inputs: op.inputs.map(sameWindow), rowAlign: 1, colAlign: 1, groupable: false }),
  prepare: (op, p, zp) => ({
    aZp: zp(op.inputs[0]), bZp: zp(op.inputs[1]), outZp: zp(op.output),
    leftShift: p.leftShift, inputA: { ...p.inputA }, inputB: { ...p.inputB }, output: { ...p.output }, actMin: p.actMin, actMax: p.actMax,
  }),
  scratchBytes: () => 0,
  bind(kn, d, c) {
    const [a, b] = c.inputs;
    requirePointwise('add', c, a.c);
    const n = callPixels(c) * a.c;
    const { aZp, bZp, outZp, leftShift, inputA: ra, inputB: rb, output: ro, actMin, actMax } = d;
    const out = c.out;
    return () => kn.add(a.ptr, b.ptr, n, aZp, bZp, leftShift, ra.multiplier, ra.shift, rb.multiplier, rb.shift, ro.multiplier, ro.shift, outZp, actMin, actMax, out);
  },
  work: elementwiseWork,
};
