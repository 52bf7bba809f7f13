// exportQdqOnnx: the int8 peer of a model for onnxruntime, in the QDQ format its own
// quantization tool writes (QuantizeLinear / DequantizeLinear pairs around float ops,
// which onnxruntime fuses into its int8 kernels: QLinearConv, QLinearAdd, ...).
//
// Recipe (docs/benchmarks.md, "int8 peers"): the float export of models/onnx/export.ts
// (NCHW), then
// - weights: per output channel symmetric int8 (zero point 0) with the QModel's weights
//   and weight scales; bias int32 at scale inputScale * weightScale[o] (the QModel's bias);
// - activations: per tensor uint8, scale and zero point + 128 of the QModel's calibrated
//   int8 parameters (the quantizer's calibration frames and method: the same ranges our
//   runtime uses), one Q/DQ pair on every graph tensor;
// - a ReLU whose output zero point is the clamp floor is dropped (the uint8 Q clamps the
//   same values), as onnxruntime's quantizer does, so Conv feeds its Q directly.
// So the peer computes what our runtime computes, with onnxruntime's kernels and its
// rounding; its outputs are close to ours, not equal.
import type { FloatModel } from '../float-model.js';
import type { QModel, QuantParams } from '../qmodel.js';
import { buildGraph } from '../graph.js';
import { exportOnnx, ONNX_INPUT_NAME } from './export.js';
import { DataType, onnx, type NodeMessage, type TensorMessage } from './proto.js';

export function exportQdqOnnx(float: FloatModel, q: QModel): Uint8Array {
  const model = onnx.ModelProto.decode(exportOnnx(float, { layout: 'NCHW', opset: 13 }));
  const graph = model.graph!;
  const g = buildGraph(float.arch);
  const nodes = graph.node as NodeMessage[];
  const inits = graph.initializer as TensorMessage[];
  const added: NodeMessage[] = [];
  const init = (name: string, dataType: number, dims: number[], data: ArrayBufferView) => {
    inits.push(onnx.TensorProto.create({ name, dims, dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }));
    return name;
  };
  const dq = (name: string, x: string, scale: string, zp: string, out: string, axis?: number) =>
    added.push(onnx.NodeProto.create({ opType: 'DequantizeLinear', name, input: [x, scale, zp], output: [out], attribute: axis === undefined ? [] : [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis }] }));
  const dropInit = (name: string) => {
    const i = inits.findIndex((t) => t.name === name);
    if (i < 0) throw new Error(`internal: no initializer ${name}`);
    inits.splice(i, 1);
  };

  // Activations: value `t` becomes `t.f` -> Q -> `t.q` -> DQ -> `t`, so readers are unchanged.
  const qdq = (t: string, p: QuantParams) => {
    const s = init(`${t}.scale`, DataType.FLOAT, [], Float32Array.of(p.scale));
    const z = init(`${t}.zp`, DataType.UINT8, [], Uint8Array.of(p.zeroPoint + 128));
    added.push(onnx.NodeProto.create({ opType: 'QuantizeLinear', name: `${t}.quantize`, input: [`${t}.f`, s, z], output: [`${t}.q`] }));
    dq(`${t}.dequantize`, `${t}.q`, s, z, t);
  };
  const producer = (value: string) => nodes.find((n) => n.output.includes(value));

  for (const op of g.ops) {
    if (op.kind !== 'conv') continue;
    const p = q.ops[op.name];
    if (p?.kind !== 'conv') throw new Error(`model ops.${op.name}: not a conv`);
    const conv = producer(op.relu ? `${op.name}.preact` : op.output)!;
    const { cout, cin, k } = op;
    // weights: OHWI int8 -> OIHW, per-channel scale, zero point 0
    const oihw = new Int8Array(cout * cin * k * k);
    for (let o = 0; o < cout; o++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) for (let i = 0; i < cin; i++) {
      oihw[((o * cin + i) * k + y) * k + x] = p.weights[((o * k + y) * k + x) * cin + i];
    }
    const inScale = q.tensors[op.input].scale;
    dropInit(`${op.name}.weight`);
    dropInit(`${op.name}.bias`);
    const wq = init(`${op.name}.weight.q`, DataType.INT8, [cout, cin, k, k], oihw);
    const ws = init(`${op.name}.weight.scale`, DataType.FLOAT, [cout], Float32Array.from(p.weightScales));
    const wz = init(`${op.name}.weight.zp`, DataType.INT8, [cout], new Int8Array(cout));
    dq(`${op.name}.weight.dequantize`, wq, ws, wz, `${op.name}.weight`, 0);
    const bq = init(`${op.name}.bias.q`, DataType.INT32, [cout], Int32Array.from(p.bias));
    const bs = init(`${op.name}.bias.scale`, DataType.FLOAT, [cout], Float32Array.from(p.weightScales, (w) => w * inScale));
    const bz = init(`${op.name}.bias.zp`, DataType.INT32, [cout], new Int32Array(cout));
    dq(`${op.name}.bias.dequantize`, bq, bs, bz, `${op.name}.bias`, 0);
    if (op.relu && p.actMin === q.tensors[op.output].zeroPoint) {
      // the ReLU clamps at the output zero point: the uint8 Q does the same
      const relu = producer(op.output)!;
      nodes.splice(nodes.indexOf(relu), 1);
      conv.output = [op.output];
    }
  }

  // every graph tensor gets its pair; the gate's upsampled attention map shares the map's params
  const values: [string, QuantParams][] = [...g.tensors.keys()].filter((t) => t !== 'input').map((t) => [t, q.tensors[t]]);
  for (const op of g.ops) if (op.kind === 'gatemul') values.push([`${op.name}.up`, q.tensors[op.attention]]);
  for (const [t, p] of values) {
    if (!p) throw new Error(`model tensors.${t}: no quantization parameters`);
    const n = producer(t);
    if (!n) throw new Error(`internal: no ONNX node writes ${t}`);
    n.output = n.output.map((o) => (o === t ? `${t}.f` : o));
    qdq(t, p);
  }
  // the float input: Q/DQ in front of its readers
  const ip = q.tensors.input;
  for (const n of nodes) n.input = n.input.map((i) => (i === ONNX_INPUT_NAME ? 'input.dq' : i));
  const s = init('input.scale', DataType.FLOAT, [], Float32Array.of(ip.scale));
  const z = init('input.zp', DataType.UINT8, [], Uint8Array.of(ip.zeroPoint + 128));
  added.push(onnx.NodeProto.create({ opType: 'QuantizeLinear', name: 'input.quantize', input: [ONNX_INPUT_NAME, s, z], output: ['input.q'] }));
  dq('input.dequantize', 'input.q', s, z, 'input.dq');

  graph.node = [...added, ...nodes]; // ONNX wants a topological order: see sortNodes
  graph.node = sortNodes(graph.node as NodeMessage[], new Set([ONNX_INPUT_NAME, ...inits.map((t) => t.name!)]));
  model.docString = `${model.docString ?? ''}; int8 QDQ (per-channel int8 weights, per-tensor uint8 activations from the aunet model's calibration)`;
  return onnx.ModelProto.encode(model).finish();
}

/** Nodes in an order where every input is produced before it is read. */
function sortNodes(nodes: NodeMessage[], available: Set<string>): NodeMessage[] {
  const out: NodeMessage[] = [];
  const have = new Set(available);
  let rest = nodes;
  while (rest.length) {
    const next = rest.filter((n) => !n.input.every((i) => i === '' || have.has(i)));
    const ready = rest.filter((n) => n.input.every((i) => i === '' || have.has(i)));
    if (!ready.length) throw new Error(`internal: QDQ graph has a cycle or a missing value near ${next[0].name}`);
    for (const n of ready) {
      out.push(n);
      for (const o of n.output) have.add(o);
    }
    rest = next;
  }
  return out;
}
