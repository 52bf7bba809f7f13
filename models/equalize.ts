// Cross-layer equalisation of activation channels (after Nagel et al., "Data-Free
// Quantization Through Weight Equalization and Bias Correction", ICCV 2019, but
// driven by activation ranges): an int8 tensor has one scale for all its
// channels, so a channel whose values span 0..0.1 next to one spanning 0..20 is
// left with a handful of steps. Multiplying channel c of a tensor by s_c > 0 and
// dividing the weights that read channel c by s_c gives the same float network
// (ReLU, max-pool, nearest upsampling, concat and the gate's broadcast multiply
// all commute with a positive per-channel factor), while the int8 tensor now
// spends its steps evenly. The attention gates' BatchNorm outputs (ag*.out),
// with per-channel gains that differ by orders of magnitude, are the case that
// made the worst layer of independently trained models.
//
// s_c = (R / r_c)^strength, r_c the channel's largest |value| over the
// calibration frames, R the largest over the tensor's channels, capped at
// MAX_GAIN (a channel that never fired keeps s = 1).
import type { FloatBatchNorm, FloatConv, FloatModel } from './float-model.js';
import { buildGraph, type ConvOp, type Graph, type Op } from './graph.js';

export const MAX_GAIN = 64;

/** Tensors whose channels can be rescaled exactly: outputs of convs (not feeding an add) and of the gates' BatchNorm. */
export function equalizableTensors(g: Graph): string[] {
  const addInputs = new Set(g.ops.flatMap((op) => (op.kind === 'add' ? op.inputs : [])));
  const sigmoidInputs = new Set(g.ops.flatMap((op) => (op.kind === 'sigmoid' ? [op.input] : [])));
  return g.ops
    .filter((op) => (op.kind === 'conv' && op.cout > 1 && !addInputs.has(op.output) && !sigmoidInputs.has(op.output)) || op.kind === 'affine')
    .map((op) => op.output);
}

function clone(model: FloatModel): FloatModel {
  const convs: Record<string, FloatConv> = {};
  for (const [k, c] of Object.entries(model.convs)) convs[k] = { ...c, weights: c.weights.slice(), bias: c.bias.slice() };
  const batchNorms: Record<string, FloatBatchNorm> = {};
  for (const [k, b] of Object.entries(model.batchNorms)) batchNorms[k] = { ...b, gamma: b.gamma.slice(), beta: b.beta.slice(), mean: b.mean.slice(), variance: b.variance.slice() };
  return { ...model, convs, batchNorms };
}

/**
 * Scales channel c of tensor `name` by s[c] in a copy of the model and compensates every reader,
 * so the float network computes the same output. Returns the copy.
 */
export function scaleChannels(model: FloatModel, name: string, s: Float32Array): FloatModel {
  const m = clone(model);
  const g = buildGraph(m.arch);
  const producer = g.ops.find((op) => op.output === name);
  if (!producer || (producer.kind !== 'conv' && producer.kind !== 'affine')) throw new RangeError(`equalize: ${name} is not the output of a conv or BatchNorm`);
  if (s.some((v) => !(v > 0))) throw new RangeError(`equalize: factors for ${name} must be positive`);
  if (producer.kind === 'conv') {
    const c = m.convs[producer.name];
    const per = c.weights.length / producer.cout;
    for (let o = 0; o < producer.cout; o++) {
      for (let i = 0; i < per; i++) c.weights[o * per + i] *= s[o];
      c.bias[o] *= s[o];
    }
  } else {
    // y = gamma (x - mean) / sqrt(var + eps) + beta: scaling gamma and beta scales y
    const bn = m.batchNorms[producer.name];
    for (let k = 0; k < s.length; k++) {
      bn.gamma[k] *= s[k];
      bn.beta[k] *= s[k];
    }
  }
  compensate(m, g, name, s, 0);
  return m;
}

/** Divide whatever reads channels [offset, offset + s.length) of `tensor` by s, following pass-through ops. */
function compensate(m: FloatModel, g: Graph, tensor: string, s: Float32Array, offset: number): void {
  for (const op of g.ops) {
    if (!reads(op, tensor)) continue;
    switch (op.kind) {
      case 'conv':
        divideInputs(m.convs[op.name], op, s, offset);
        break;
      case 'maxpool':
      case 'upsample':
        compensate(m, g, op.output, s, offset);
        break;
      case 'concat':
        compensate(m, g, op.output, s, op.inputs[0] === tensor ? offset : offset + g.tensors.get(op.inputs[0])!.c);
        break;
      case 'gatemul': {
        if (op.skip !== tensor) throw new RangeError(`equalize: ${tensor} is a gate's attention input`);
        // gated = a * skip scales with skip; the BatchNorm reading it undoes it: gamma / s, mean * s
        const bn = g.ops.find((o) => o.kind === 'affine' && o.input === op.output)!;
        const stats = m.batchNorms[bn.name];
        for (let k = 0; k < s.length; k++) {
          stats.gamma[offset + k] /= s[k];
          stats.mean[offset + k] *= s[k];
        }
        break;
      }
      default:
        throw new RangeError(`equalize: ${tensor} is read by ${op.kind} ${op.name}, which does not commute with per-channel factors`);
    }
  }
}

function reads(op: Op, tensor: string): boolean {
  switch (op.kind) {
    case 'concat':
    case 'add':
      return op.inputs.includes(tensor);
    case 'gatemul':
      return op.skip === tensor || op.attention === tensor;
    default:
      return op.input === tensor;
  }
}

function divideInputs(c: FloatConv, op: ConvOp, s: Float32Array, offset: number): void {
  const taps = op.k * op.k;
  for (let o = 0; o < op.cout; o++) {
    for (let t = 0; t < taps; t++) {
      const base = (o * taps + t) * op.cin + offset;
      for (let k = 0; k < s.length; k++) c.weights[base + k] /= s[k];
    }
  }
}

/** Factors that bring every channel's range towards the tensor's largest: (R / r_c)^strength, at most MAX_GAIN. */
export function equalizingFactors(channelMax: Float32Array, strength: number): Float32Array {
  const R = Math.max(...channelMax);
  return Float32Array.from(channelMax, (r) => (r > 0 && R > 0 ? Math.min(MAX_GAIN, (R / r) ** strength) : 1));
}

/**
 * Equalises every equalizable tensor in graph order from the calibration's per-channel maxima
 * (scaling a tensor leaves every other tensor's values unchanged, so one pass of statistics serves all).
 */
export function equalizeModel(model: FloatModel, channelMax: Map<string, Float32Array>, strength: number): { model: FloatModel; tensors: string[] } {
  let m = model;
  const done: string[] = [];
  for (const name of equalizableTensors(buildGraph(model.arch))) {
    const r = channelMax.get(name);
    if (!r) continue;
    m = scaleChannels(m, name, equalizingFactors(r, strength));
    done.push(name);
  }
  return { model: m, tensors: done };
}
