// exportOnnx: a FloatModel as a plain ONNX model any ONNX runtime runs
// (onnxruntime-node/-web). One ONNX node per graph op (plus a Relu after each
// ReLU conv, a Resize before each gate Mul), value names = graph tensor names.
//
// Input  'input': float32 pixel / 255, [1, C, H, W] (NCHW) or [1, H, W, C] (NHWC).
// Output 'prob' : float32 probability, [1, 1, H, W] or [1, H, W, 1];
//        with attentionOutputs also 'a1'..'a4' (the gate maps, H/16 .. H/2).
// See docs/importers.md.
import { buildGraph, type Op } from '../graph.js';
import type { FloatModel } from '../float-model.js';
import { GraphBuilder } from './builder.js';
import { convertConvLayout } from '../conv-layout.js';

export interface OnnxExportOptions {
  layout?: 'NCHW' | 'NHWC';
  /** write each gate BatchNorm as Mul + Add per-channel constants instead of a BatchNormalization node */
  foldBatchNorm?: boolean;
  /** ONNX opset, 11..18 (default 13) */
  opset?: number;
  /** also output the four attention maps a1..a4 */
  attentionOutputs?: boolean;
}

export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'prob';

export function exportOnnx(model: FloatModel, options: OnnxExportOptions = {}): Uint8Array {
  const layout = options.layout ?? 'NCHW';
  const opset = options.opset ?? 13;
  if (!Number.isInteger(opset) || opset < 11 || opset > 18) throw new RangeError(`ONNX opset must be 11..18, got ${opset}`);
  if (layout !== 'NCHW' && layout !== 'NHWC') throw new RangeError(`layout must be NCHW or NHWC, got ${String(layout)}`);
  const g = buildGraph(model.arch);
  const { height: H, width: W, channels: C } = model.arch;
  const b = new GraphBuilder();
  const scales = b.float('up.scales', [4], [1, 1, 2, 2]);
  const roi = b.float('up.roi', [0], []);

  if (layout === 'NHWC') {
    b.input(ONNX_INPUT_NAME, [1, H, W, C]);
    b.node('Transpose', [ONNX_INPUT_NAME], 'input.nchw', { perm: [0, 3, 1, 2] }, 'input.to_nchw');
  } else {
    b.input(ONNX_INPUT_NAME, [1, C, H, W]);
  }
  // graph tensor name -> ONNX value name
  const v = (tensor: string) => (tensor === 'input' ? (layout === 'NHWC' ? 'input.nchw' : ONNX_INPUT_NAME) : tensor);
  const resize = (x: string, out: string, name: string) =>
    b.node('Resize', [x, roi, scales], out, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, name);

  for (const op of g.ops) emit(op);

  function emit(op: Op): void {
    switch (op.kind) {
      case 'conv': {
        const c = model.convs[op.name];
        if (!c) throw new Error(`float model has no conv '${op.name}'`);
        const { cout, cin, k } = op;
        const oihw = convertConvLayout(c.weights, op, 'OHWI', 'OIHW');
        const wName = b.float(`${op.name}.weight`, [cout, cin, k, k], oihw);
        const bName = b.float(`${op.name}.bias`, [cout], c.bias);
        const pads = c.pads ?? op.pads;
        const convOut = op.relu ? `${op.name}.preact` : op.output;
        b.node('Conv', [v(op.input), wName, bName], convOut, {
          kernel_shape: [k, k], strides: [op.stride, op.stride], pads: [...pads], dilations: [1, 1], group: 1,
        }, op.name);
        if (op.relu) b.node('Relu', [convOut], op.output, {}, `${op.name}.relu`);
        return;
      }
      case 'maxpool':
        b.node('MaxPool', [v(op.input)], op.output, { kernel_shape: [2, 2], strides: [2, 2] }, op.name);
        return;
      case 'upsample':
        resize(v(op.input), op.output, op.name);
        return;
      case 'concat':
        b.node('Concat', op.inputs.map(v), op.output, { axis: 1 }, op.name);
        return;
      case 'add':
        b.node('Add', op.inputs.map(v), op.output, {}, op.name);
        return;
      case 'sigmoid':
        b.node('Sigmoid', [v(op.input)], op.output, {}, op.name);
        return;
      case 'gatemul': {
        const up = resize(v(op.attention), `${op.name}.up`, `${op.name}.upsample`);
        b.node('Mul', [up, v(op.skip)], op.output, {}, op.name);
        return;
      }
      case 'affine': {
        const bn = model.batchNorms[op.name];
        if (!bn) throw new Error(`float model has no BatchNorm '${op.name}'`);
        const c = op.channels;
        if (options.foldBatchNorm) {
          const a = new Float32Array(c);
          const bb = new Float32Array(c);
          for (let i = 0; i < c; i++) {
            a[i] = bn.gamma[i] / Math.sqrt(bn.variance[i] + bn.epsilon);
            bb[i] = bn.beta[i] - a[i] * bn.mean[i];
          }
          const scaled = b.node('Mul', [v(op.input), b.float(`${op.name}.a`, [1, c, 1, 1], a)], `${op.name}.scaled`, {}, `${op.name}.mul`);
          b.node('Add', [scaled, b.float(`${op.name}.b`, [1, c, 1, 1], bb)], op.output, {}, `${op.name}.add`);
        } else {
          b.node('BatchNormalization', [
            v(op.input),
            b.float(`${op.name}.gamma`, [c], bn.gamma),
            b.float(`${op.name}.beta`, [c], bn.beta),
            b.float(`${op.name}.mean`, [c], bn.mean),
            b.float(`${op.name}.variance`, [c], bn.variance),
          ], op.output, { epsilon: { f: bn.epsilon } }, op.name);
        }
        return;
      }
    }
  }

  const outputs: [string, number, number][] = [[g.output, H, W]];
  if (options.attentionOutputs) {
    for (const a of g.attention) {
      const t = g.tensors.get(a)!;
      outputs.push([a, t.h, t.w]);
    }
  }
  for (const [name, h, w] of outputs) {
    if (layout === 'NHWC') {
      // the NCHW tensor keeps an internal name; the graph output gets the public one
      const internal = `${name}.nchw`;
      renameOutput(b, name, internal);
      b.node('Transpose', [internal], name, { perm: [0, 2, 3, 1] }, `${name}.to_nhwc`);
      b.output(name, [1, h, w, 1]);
    } else {
      b.output(name, [1, 1, h, w]);
    }
  }
  const doc = `aunet-edge Attention U-Net F=${model.arch.filters} ${H}x${W}x${C}; input '${ONNX_INPUT_NAME}' ${layout} float32 pixel/255; output '${ONNX_OUTPUT_NAME}' probability`;
  return b.encode(opset, 'attention_unet', { name: 'aunet-edge', version: '0.1.0' }, doc);
}

/** Rename a value everywhere it is produced or read (before the output Transpose is added). */
function renameOutput(b: GraphBuilder, from: string, to: string): void {
  for (const n of b.nodes) {
    n.output = n.output.map((o: string) => (o === from ? to : o));
    n.input = n.input.map((i: string) => (i === from ? to : i));
  }
}
