// Builds the kind of ONNX graph tf2onnx makes of the study's Keras model when
// its transpose optimiser leaves the Transposes in place: NHWC tensors between
// ops, a Transpose pair around every Conv and MaxPool, auto_pad SAME_UPPER
// (Keras 'same'), Resize on NHWC (sizes computed from Shape, or scales
// [1,2,2,1]), channel Concat on axis -1, the gate BatchNorm as Mul/Add with
// [C] constants, an Identity on the output. There is no TensorFlow here to run
// tf2onnx itself.
import { buildGraph } from '../../../models/graph.js';
import type { FloatModel } from '../../../models/float-model.js';
import { GraphBuilder } from '../../../models/onnx/builder.js';
import { convertConvLayout } from '../../../models/conv-layout.js';

export interface Tf2onnxLikeOptions {
  /** the gate BatchNorm as a BatchNormalization node between Transposes (default: Mul/Add with [C] constants) */
  batchNormNode?: boolean;
  /** ReLU written as Clip(min 0) (opset 11+ style, min as an input) */
  clipRelu?: boolean;
  /** TF's BiasAdd left as an Add of a [C] constant after the conv's back-Transpose */
  biasAdd?: boolean;
}

export function tf2onnxLike(model: FloatModel, opts: Tf2onnxLikeOptions = {}): Uint8Array {
  const g = buildGraph(model.arch);
  const { height: H, width: W, channels: C } = model.arch;
  const b = new GraphBuilder();
  b.input('input_1', ['unk__0', H, W, C]);
  const v = (t: string) => (t === 'input' ? 'input_1' : t);
  let t = 0;
  const toNchw = (x: string) => b.node('Transpose', [x], `${x}__${t++}`, { perm: [0, 3, 1, 2] });
  const toNhwc = (x: string, out: string) => b.node('Transpose', [x], out, { perm: [0, 2, 3, 1] });
  const factor = b.int64('const_fold_opt__2', [2], [2, 2]);

  for (const op of g.ops) {
    switch (op.kind) {
      case 'conv': {
        const c = model.convs[op.name];
        if (c.pads && c.pads.join() !== op.pads.join()) throw new Error('tf2onnxLike: Keras pads only');
        const w = b.float(`${op.name}/kernel`, [op.cout, op.cin, op.k, op.k], convertConvLayout(c.weights, op, 'OHWI', 'OIHW'));
        const bias = b.float(`${op.name}/bias`, [op.cout], c.bias);
        const y = b.node('Conv', opts.biasAdd ? [toNchw(v(op.input)), w] : [toNchw(v(op.input)), w, bias], `${op.name}/Conv2D__nchw`, {
          kernel_shape: [op.k, op.k], strides: [op.stride, op.stride], dilations: [1, 1], auto_pad: 'SAME_UPPER',
        });
        let nhwc = toNhwc(y, `${op.name}/Conv2D`);
        if (opts.biasAdd) nhwc = b.node('Add', [nhwc, bias], `${op.name}/BiasAdd`);
        if (op.relu && opts.clipRelu) b.node('Clip', [nhwc, b.float(`${op.name}/min`, [], [0])], op.output);
        else if (op.relu) b.node('Relu', [nhwc], op.output);
        else b.node('Identity', [nhwc], op.output);
        break;
      }
      case 'maxpool': {
        const y = b.node('MaxPool', [toNchw(v(op.input))], `${op.name}__nchw`, { kernel_shape: [2, 2], strides: [2, 2] });
        toNhwc(y, op.output);
        break;
      }
      case 'add':
        b.node('Add', op.inputs.map(v), op.output);
        break;
      case 'sigmoid':
        b.node('Sigmoid', [v(op.input)], op.output);
        break;
      case 'gatemul': {
        // sizes = [N, 2H, 2W, C] from the attention map's own shape
        const shape = b.node('Shape', [op.attention], `${op.name}/Shape`);
        const hw = b.node('Slice', [shape, b.int64(`${op.name}/s1`, [1], [1]), b.int64(`${op.name}/e3`, [1], [3]), b.int64(`${op.name}/ax`, [1], [0])], `${op.name}/hw`);
        const hw2 = b.node('Mul', [hw, factor], `${op.name}/hw2`);
        const n = b.node('Slice', [shape, b.int64(`${op.name}/s0`, [1], [0]), b.int64(`${op.name}/e1`, [1], [1])], `${op.name}/n`);
        const c = b.node('Slice', [shape, b.int64(`${op.name}/s3`, [1], [3]), b.int64(`${op.name}/e4`, [1], [4])], `${op.name}/c`);
        const sizes = b.node('Concat', [n, hw2, c], `${op.name}/sizes`, { axis: 0 });
        const up = b.node('Resize', [op.attention, '', '', sizes], `${op.name}/up`, {
          mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor',
        });
        b.node('Mul', [op.skip, up], op.output);
        break;
      }
      case 'affine': {
        const bn = model.batchNorms[op.name];
        if (opts.batchNormNode) {
          const c = op.channels;
          const y = b.node('BatchNormalization', [
            toNchw(op.input), b.float(`${op.name}/gamma`, [c], bn.gamma), b.float(`${op.name}/beta`, [c], bn.beta),
            b.float(`${op.name}/mean`, [c], bn.mean), b.float(`${op.name}/var`, [c], bn.variance),
          ], `${op.name}/FusedBatchNormV3__nchw`, { epsilon: { f: bn.epsilon } });
          toNhwc(y, op.output);
          break;
        }
        const a = bn.gamma.map((gm, i) => gm / Math.sqrt(bn.variance[i] + bn.epsilon));
        const shift = bn.beta.map((bt, i) => bt - a[i] * bn.mean[i]);
        const m = b.node('Mul', [op.input, b.float(`${op.name}/mul_const`, [op.channels], a)], `${op.name}/mul`);
        b.node('Add', [m, b.float(`${op.name}/add_const`, [op.channels], shift)], op.output);
        break;
      }
      case 'upsample':
        b.node('Resize', [v(op.input), b.float(`${op.name}/roi`, [0], []), b.float(`${op.name}/scales`, [4], [1, 2, 2, 1])], op.output, {
          mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_ceil',
        });
        break;
      case 'concat':
        b.node('Concat', op.inputs.map(v), op.output, { axis: -1 });
        break;
    }
  }
  b.node('Identity', [g.output], 'conv2d_30');
  b.output('conv2d_30', ['unk__0', H, W, 1]);
  return b.encode(13, 'tf2onnx', { name: 'tf2onnx', version: '1.16.1' });
}
