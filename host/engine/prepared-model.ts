// A model made ready to run, the same way for every engine: validated against
// its graph (checkModel: BAD_MODEL), then every op prepared by its binding
// (host/kernels/ops: zero points, requantization, clamps, padding), once, at load.
import type { Graph } from '../../models/graph.js';
import type { QModel } from '../../models/qmodel.js';
import { prepareOp, type PreparedOp } from '../kernels/ops/registry.js';
import { checkModel } from './engine-input.js';

export interface PreparedModel {
  graph: Graph;
  /** one per graph op, in order */
  ops: PreparedOp[];
}

export function prepareModel(model: QModel): PreparedModel {
  const graph = checkModel(model);
  const zeroPoint = (t: string) => model.tensors[t].zeroPoint;
  return { graph, ops: graph.ops.map((op) => prepareOp(op, model.ops[op.name], zeroPoint)) };
}
