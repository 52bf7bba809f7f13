// conv (3x3 stride 1 or 2, 1x1) -> kernels conv3x3 / conv1x1. Splits over rows,
// columns and output channels: a sub-range reads the input window of its rows and
// columns (the 3x3 halo included) and the params of its channels; padding is
// computed per call from where its input view starts, so a tile at the image
// border pads and one inside does not.
import type { ConvOp, Graph } from '../../../models/graph.js';
import type { QConv } from '../../../models/qmodel.js';
import { CONV3X3_SCRATCH_BYTES } from '../kernel-set.js';
import { winogradChunk } from '../weight-packing.js';
import { callPixels, type OpBinding, type WeightBytes, type Window } from './op-binding.js';
import { requantPlanes } from './planes.js';

export interface ConvData {
  k: 1 | 3;
  stride: number;
  cin: number;
  /** top and left padding of the whole output (the model's, which may override the graph's) */
  padTop: number;
  padLeft: number;
  inZp: number;
  outZp: number;
  actMin: number;
  actMax: number;
  /** conv3x3's chunkCin: what these weights let its Winograd F(4x4, 3x3) sum at once */
  chunkCin: number;
}

export const conv: OpBinding<ConvOp, ConvData> = {
  kind: 'conv',

  planes(op, weightBytes) {
    // bytes of n channels in a layout: whole channel groups
    const packedBytes = (wb: WeightBytes, n: number) => {
      const g = wb.convChannelGroup(op.k);
      return wb.convWeightBytes(op.k, op.cin, op.stride) * Math.ceil(n / g) * g;
    };
    const perOutput = op.k * op.k * op.cin; // int8 weights of one output channel (OHWI)
    return [
      {
        name: 'weights', category: 'weights',
        perChannel: weightBytes.convWeightBytes(op.k, op.cin, op.stride), channelGroup: weightBytes.convChannelGroup(op.k),
        bytes: packedBytes(weightBytes, op.cout),
        write: (k, p, at) => k.packConvWeights(op.k, op.cin, op.cout, p.weights, at, op.stride),
        kernelCopy: (k, p, o0, o1) => ({
          bytes: packedBytes(k, o1 - o0),
          write: (at) => k.packConvWeights(op.k, op.cin, o1 - o0, p.weights.subarray(o0 * perOutput, o1 * perOutput), at, op.stride),
        }),
      },
      ...requantPlanes<QConv>(op.cout),
    ];
  },

  geometry(op, g, pads) {
    const s = g.tensors.get(op.input)!;
    const [pt, pl] = pads ?? op.pads;
    const { k, stride } = op;
    const win = (pad: number, n: number): Window => (lo, hi) => [Math.max(0, lo * stride - pad), Math.min(n, (hi - 1) * stride - pad + k)];
    return { inputs: [{ tensor: op.input, rows: win(pt, s.h), cols: win(pl, s.w) }], rowAlign: 1, colAlign: 1, groupable: true };
  },

  prepare(op, p, zp) {
    return {
      k: op.k, stride: op.stride, cin: op.cin, padTop: p.pads[0], padLeft: p.pads[1], inZp: zp(op.input), outZp: zp(op.output), actMin: p.actMin, actMax: p.actMax,
      chunkCin: op.k === 3 ? winogradChunk(op.stride, op.cin, p.weights) : 0,
    };
  },

  scratchBytes: (d) => (d.k === 3 ? CONV3X3_SCRATCH_BYTES : 0),

  bind(kn, d, c, scratch) {
    const v = c.inputs[0];
    const [w, bias, mult, shift] = c.params;
    const cout = c.o1 - c.o0;
    const { cin, inZp, outZp, actMin, actMax, chunkCin } = d;
    const out = c.out;
    const stride = c.outPixelStride;
    if (d.k === 1) {
      const pixels = callPixels(c);
      return () => kn.conv1x1(v.ptr, pixels, cin, inZp, out, stride, cout, w, bias, mult, shift, outZp, actMin, actMax);
    }
    const outH = c.y1 - c.y0;
    const outW = c.x1 - c.x0;
    // the view starts at input row r0; the call's first window row is y0*stride - padTop
    const padTop = v.r0 - (c.y0 * d.stride - d.padTop);
    const padLeft = v.c0 - (c.x0 * d.stride - d.padLeft);
    const s = d.stride;
    const { ptr: sp, bytes: sb } = scratch;
    return () => kn.conv3x3(v.ptr, v.h, v.w, cin, inZp, out, outH, outW, stride, cout, s, padTop, padLeft, w, bias, mult, shift, outZp, actMin, actMax, chunkCin, sp, sb);
  },

  work(op, _g: Graph, c) {
    const pixels = callPixels(c);
    const cout = c.o1 - c.o0;
    return { macs: pixels * cout * op.cin * op.k * op.k, elements: 0, macArray: { pixels, k: op.k, cin: op.cin, cout } };
  },
};
