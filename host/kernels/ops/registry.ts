// Op kind -> binding. The mapped type makes a new op kind of models/graph.ts a
// compile error here until it has a binding; nothing else in the engines lists
// op kinds.
import type { Graph, Op, Pads } from '../../../models/graph.js';
import type { QOpParams } from '../../../models/qmodel.js';
import type { KernelFunctions, KernelSet } from '../kernel-set.js';
import type { OpBinding, OpCall, OpGeometry, OpKind, OpOf, ParamPlane, Scratch, WeightBytes, Work } from './op-binding.js';
import { conv } from './conv.js';
import { maxpool } from './maxpool.js';
import { upsample } from './upsample.js';
import { concat } from './concat.js';
import { add } from './add.js';
import { sigmoid } from './sigmoid.js';
import { gatemul } from './gatemul.js';
import { affine } from './affine.js';

// `any` OpData: each binding's own data type stays inside its file and PreparedOp.
const OP_BINDINGS: { readonly [K in OpKind]: OpBinding<OpOf<K>, any> } = { conv, maxpool, upsample, concat, add, sigmoid, gatemul, affine };

/** The binding of an op's kind. */
export function bindingOf<O extends Op>(op: O): OpBinding<O> {
  return OP_BINDINGS[op.kind as OpKind] as unknown as OpBinding<O>;
}

/** The parameter planes of an op (sizes for `weightBytes`; none for ops without parameters). */
export function opPlanes(op: Op, weightBytes: WeightBytes): ParamPlane<QOpParams>[] {
  return bindingOf(op).planes(op, weightBytes) as ParamPlane<QOpParams>[];
}

export function opGeometry(op: Op, g: Graph, pads?: Pads): OpGeometry {
  return bindingOf(op).geometry(op, g, pads);
}

export function opWork(op: Op, g: Graph, call: OpCall): Work {
  return bindingOf(op).work(op, g, call);
}

/** An op prepared for a model: its OpData, its geometry, and Eval over any sub-range. */
export interface PreparedOp {
  readonly op: Op;
  /** the binding's OpData: plain data, built once at load */
  readonly data: unknown;
  /** the op's geometry with the model's padding */
  geometry(g: Graph): OpGeometry;
  scratchBytes(call: OpCall): number;
  bind(kernels: KernelFunctions, call: OpCall, scratch: Scratch): () => void;
}

/** Prepare one op: `p` its model parameters (checked against the graph before: validateQModel). */
export function prepareOp(op: Op, p: QOpParams | undefined, zeroPoint: (tensor: string) => number): PreparedOp {
  const b = bindingOf(op);
  const data = b.prepare(op, p as never, zeroPoint);
  const pads = p && 'pads' in p ? p.pads : undefined;
  return {
    op,
    data,
    geometry: (g) => b.geometry(op, g, pads),
    scratchBytes: (call) => b.scratchBytes(data, call),
    bind: (kernels, call, scratch) => b.bind(kernels, data, call, scratch),
  };
}
