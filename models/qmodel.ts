// The int8 model in memory: what the quantizer produces, what the .aunet file
// stores and what the direct executor and the chip model run. Keys are the op and
// tensor names of models/graph.ts. Arithmetic: docs/quantization.md.
import type { Arch, Pads } from './graph.js';
import type { Preprocessing } from './float-model.js';

/** real = scale * (q - zeroPoint), q in [-128, 127] */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/**
 * A requantization: real multiplier = multiplier * 2^(shift - 31), multiplier a
 * Q31 value in [2^30, 2^31) (or 0), shift in [-31, 30]. See models/quant-math.ts.
 */
export interface Requant {
  multiplier: number;
  shift: number;
}

export interface QConv {
  kind: 'conv';
  /** OHWI int8, symmetric per output channel (zero point 0, values in [-127, 127]) */
  weights: Int8Array;
  /** scale of each output channel's weights */
  weightScales: Float32Array;
  /** int32 bias in units of inputScale * weightScale[o] */
  bias: Int32Array;
  /** per output channel: inputScale * weightScale[o] / outputScale */
  multiplier: Int32Array;
  shift: Int32Array;
  pads: Pads;
  /** fused activation as an int8 clamp (ReLU: [outputZeroPoint, 127]) */
  actMin: number;
  actMax: number;
}

/** TFLite int8 ADD: both inputs left-shifted by leftShift, rescaled, summed, rescaled to the output. */
export interface QAdd {
  kind: 'add';
  leftShift: number;
  inputA: Requant;
  inputB: Requant;
  output: Requant;
  actMin: number;
  actMax: number;
}

/** Each input requantized to the output's scale and zero point. */
export interface QConcat {
  kind: 'concat';
  inputA: Requant;
  inputB: Requant;
}

/** out = lut[q + 128]; output scale 1/256, zero point -128 */
export interface QSigmoid {
  kind: 'sigmoid';
  lut: Int8Array;
}

/** out = requant((a + 128) * (skip - skipZp)) + outZp, a the sigmoid output */
export interface QGateMul {
  kind: 'gatemul';
  requant: Requant;
  actMin: number;
  actMax: number;
}

/** per-channel y = w[c] * (x - xZp) + bias[c], requantized per channel (a depthwise 1x1 conv) */
export interface QAffine {
  kind: 'affine';
  weights: Int8Array;
  weightScales: Float32Array;
  bias: Int32Array;
  multiplier: Int32Array;
  shift: Int32Array;
  actMin: number;
  actMax: number;
}

export type QOpParams = QConv | QAdd | QConcat | QSigmoid | QGateMul | QAffine;

export interface QModel {
  arch: Arch;
  preprocessing: Preprocessing;
  /** every tensor of the graph; max-pool and upsample outputs share their input's params */
  tensors: Record<string, QuantParams>;
  /** params of every op that has any (maxpool and upsample have none) */
  ops: Record<string, QOpParams>;
  /** free-form header fields of the .aunet file (provenance, metrics) */
  meta?: Record<string, unknown>;
}

/** Fixed parameters of every sigmoid output (TFLite's logistic convention). */
export const SIGMOID_OUTPUT: QuantParams = { scale: 1 / 256, zeroPoint: -128 };
/** The input image: pixel / 255 quantized exactly as q = pixel - 128. */
export const INPUT_PARAMS: QuantParams = { scale: 1 / 255, zeroPoint: -128 };
