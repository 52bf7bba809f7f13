// A random but valid QModel for any arch, built directly in int8 (no float
// model, no calibration): for engine and chip-model tests that need many
// models of many shapes fast. Scales are chosen so that activations stay
// spread over the int8 range through the whole network (neither saturated
// nor collapsed), so comparing two backends on it exercises real values;
// zero points vary per tensor, pads may be the PyTorch style, and some concat
// inputs get identity requantization.
import { buildGraph, type Arch, type Op, type Pads } from './graph.js';
import { DEFAULT_PREPROCESSING } from './float-model.js';
import { INPUT_PARAMS, SIGMOID_OUTPUT, type QModel, type QuantParams, type Requant } from './qmodel.js';
import { prng } from './random-model.js';
import { quantizeAddParams, quantizeMultiplier, sigmoidLut } from './quant-math.js';

export interface RandomQModelOptions {
  seed?: number;
  /** probability that a stride-2 conv uses PyTorch padding [1,1,1,1] instead of Keras' [0,0,1,1] */
  torchPads?: number;
}

export function randomQModel(arch: Arch, options: RandomQModelOptions = {}): QModel {
  const g = buildGraph(arch);
  const rand = prng(options.seed ?? 1);
  const between = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const int = (lo: number, hi: number) => lo + Math.floor((hi - lo + 1) * rand());
  const tensors: Record<string, QuantParams> = { input: { ...INPUT_PARAMS } };
  const ops: QModel['ops'] = {};
  const q = (t: string) => tensors[t];

  for (const op of g.ops) {
    switch (op.kind) {
      case 'conv': {
        const fanIn = op.k * op.k * op.cin;
        const weights = new Int8Array(op.cout * fanIn);
        for (let i = 0; i < weights.length; i++) weights[i] = int(-127, 127);
        const inQ = q(op.input);
        // |x - zp| ~ 35 and |w| ~ 73 give an accumulator of ~ 2500 sqrt(fanIn); aim the output spread at ~ 50 LSB.
        // Logits (no ReLU) get a scale that makes that spread a few units, so sigmoids see both tails.
        const accStd = 2500 * Math.sqrt(fanIn);
        const outZp = op.relu ? int(-128, -100) : int(-20, 20);
        const outScale = op.relu ? between(0.01, 0.1) : between(0.04, 0.12);
        const wBase = (outScale * between(40, 70)) / (inQ.scale * accStd);
        const weightScales = new Float32Array(op.cout).map(() => wBase * between(0.5, 1.5));
        tensors[op.output] = { scale: outScale, zeroPoint: outZp };
        // ReLU convs lean positive so fewer channels die; logits stay centred so sigmoids see both sides
        const bias = new Int32Array(op.cout).map(() => Math.round(accStd * (op.relu ? between(-0.3, 0.5) : between(-0.2, 0.2))));
        const multiplier = new Int32Array(op.cout);
        const shift = new Int32Array(op.cout);
        for (let o = 0; o < op.cout; o++) {
          const r = quantizeMultiplier((inQ.scale * weightScales[o]) / outScale);
          multiplier[o] = r.multiplier;
          shift[o] = r.shift;
        }
        let pads: Pads = op.pads;
        if (op.stride === 2 && rand() < (options.torchPads ?? 0.3)) pads = [1, 1, 1, 1];
        ops[op.name] = { kind: 'conv', weights, weightScales, bias, multiplier, shift, pads, actMin: op.relu ? outZp : -128, actMax: 127 };
        break;
      }
      case 'maxpool':
      case 'upsample':
        tensors[op.output] = { ...q(op.input) };
        break;
      case 'add': {
        const [a, b] = op.inputs.map(q);
        const outScale = Math.max(a.scale, b.scale) * between(0.7, 1.2);
        const outZp = int(-128, -60);
        tensors[op.output] = { scale: outScale, zeroPoint: outZp };
        ops[op.name] = {
          kind: 'add', ...quantizeAddParams(a.scale, b.scale, outScale),
          actMin: -128, actMax: 127,
        };
        break;
      }
      case 'sigmoid': {
        tensors[op.output] = { ...SIGMOID_OUTPUT };
        ops[op.name] = { kind: 'sigmoid', lut: sigmoidLut(q(op.input).scale, q(op.input).zeroPoint) };
        break;
      }
      case 'gatemul': {
        const s = q(op.skip);
        const outScale = s.scale * between(0.5, 1);
        const outZp = int(-128, -110);
        tensors[op.output] = { scale: outScale, zeroPoint: outZp };
        ops[op.name] = { kind: 'gatemul', requant: quantizeMultiplier(s.scale / (256 * outScale)), actMin: -128, actMax: 127 };
        break;
      }
      case 'affine': {
        const inQ = q(op.input);
        const c = op.channels;
        const weights = new Int8Array(c).map(() => int(40, 127) * (rand() < 0.1 ? -1 : 1));
        const weightScales = new Float32Array(c).map(() => between(0.005, 0.01));
        const outScale = inQ.scale * between(0.8, 1.5);
        const outZp = int(-40, 0);
        tensors[op.output] = { scale: outScale, zeroPoint: outZp };
        const multiplier = new Int32Array(c);
        const shift = new Int32Array(c);
        const bias = new Int32Array(c);
        for (let ch = 0; ch < c; ch++) {
          const r = quantizeMultiplier((inQ.scale * weightScales[ch]) / outScale);
          multiplier[ch] = r.multiplier;
          shift[ch] = r.shift;
          bias[ch] = Math.round(between(-20, 20) / ((inQ.scale * weightScales[ch]) / outScale));
        }
        ops[op.name] = { kind: 'affine', weights, weightScales, bias, multiplier, shift, actMin: -128, actMax: 127 };
        break;
      }
      case 'concat': {
        const [a, b] = op.inputs.map(q);
        // sometimes the output keeps one input's params exactly: the identity path of requantCopy
        const pick = rand();
        const outQ = pick < 0.3 ? { ...a } : pick < 0.5 ? { ...b } : { scale: Math.max(a.scale, b.scale) * between(0.8, 1.3), zeroPoint: int(-128, -90) };
        tensors[op.output] = outQ;
        ops[op.name] = { kind: 'concat', inputA: requantBetween(a, outQ), inputB: requantBetween(b, outQ) };
        break;
      }
      default:
        unreachable(op);
    }
  }
  return { arch, preprocessing: DEFAULT_PREPROCESSING, tensors, ops, meta: { source: 'random-qmodel', seed: options.seed ?? 1 } };
}

/** The requantization from one tensor's scale to another's. */
function requantBetween(from: QuantParams, to: QuantParams): Requant {
  return quantizeMultiplier(from.scale / to.scale);
}

function unreachable(op: never): never {
  throw new Error(`internal: unknown op ${(op as Op).kind}`);
}
