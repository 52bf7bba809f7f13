// Small models for the models tests: a random float model (He-normal weights,
// non-trivial BatchNorm) and a random but valid int8 model built directly,
// so format tests do not depend on the quantizer.
import { buildGraph, type Arch } from '../../models/graph.js';
import { DEFAULT_PREPROCESSING, type FloatModel } from '../../models/float-model.js';
import { INPUT_PARAMS, SIGMOID_OUTPUT, type QModel, type QOpParams, type QuantParams } from '../../models/qmodel.js';

/** mulberry32: a tiny seeded PRNG so fixtures are reproducible */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(r: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export function randomFloatModel(arch: Arch, seed = 1): FloatModel {
  const g = buildGraph(arch);
  const n = gaussian(rng(seed));
  const u = rng(seed + 1000);
  const convs: FloatModel['convs'] = {};
  const batchNorms: FloatModel['batchNorms'] = {};
  for (const op of g.ops) {
    if (op.kind === 'conv') {
      const fanIn = op.k * op.k * op.cin;
      const std = Math.sqrt(2 / fanIn);
      convs[op.name] = {
        weights: Float32Array.from({ length: op.cout * fanIn }, () => n() * std),
        bias: Float32Array.from({ length: op.cout }, () => n() * 0.05),
      };
    } else if (op.kind === 'affine') {
      const c = op.channels;
      batchNorms[op.name] = {
        gamma: Float32Array.from({ length: c }, () => 0.5 + u()),
        beta: Float32Array.from({ length: c }, () => n() * 0.2),
        mean: Float32Array.from({ length: c }, () => u() * 0.3),
        variance: Float32Array.from({ length: c }, () => 0.25 + u()),
        epsilon: 1e-3,
      };
    }
  }
  return { arch, preprocessing: { ...DEFAULT_PREPROCESSING }, convs, batchNorms, source: { format: 'random', file: `random-seed-${seed}` } };
}

/** A valid QModel with random contents (not a meaningful network). */
export function randomQModel(arch: Arch, seed = 1): QModel {
  const g = buildGraph(arch);
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const requant = () => ({ multiplier: int(2 ** 30, 2 ** 31 - 1), shift: int(-12, 2) });
  const params = (): QuantParams => ({ scale: 0.001 + r() * 0.1, zeroPoint: int(-128, 127) });
  const tensors: Record<string, QuantParams> = {};
  for (const name of g.tensors.keys()) tensors[name] = params();
  tensors.input = { ...INPUT_PARAMS };
  const ops: Record<string, QOpParams> = {};
  const perChannel = (n: number, per: number) => ({
    weights: Int8Array.from({ length: n * per }, () => int(-127, 127)),
    weightScales: Float32Array.from({ length: n }, () => 0.001 + r()),
    bias: Int32Array.from({ length: n }, () => int(-100000, 100000)),
    multiplier: Int32Array.from({ length: n }, () => int(2 ** 30, 2 ** 31 - 1)),
    shift: Int32Array.from({ length: n }, () => int(-12, 2)),
  });
  for (const op of g.ops) {
    switch (op.kind) {
      case 'conv':
        ops[op.name] = { kind: 'conv', ...perChannel(op.cout, op.k * op.k * op.cin), pads: op.pads, actMin: op.relu ? tensors[op.output].zeroPoint : -128, actMax: 127 };
        break;
      case 'affine':
        ops[op.name] = { kind: 'affine', ...perChannel(op.channels, 1), actMin: -128, actMax: 127 };
        break;
      case 'add':
        ops[op.name] = { kind: 'add', leftShift: 20, inputA: requant(), inputB: requant(), output: requant(), actMin: -128, actMax: 127 };
        break;
      case 'concat':
        ops[op.name] = { kind: 'concat', inputA: requant(), inputB: requant() };
        break;
      case 'sigmoid':
        tensors[op.output] = { ...SIGMOID_OUTPUT };
        ops[op.name] = { kind: 'sigmoid', lut: Int8Array.from({ length: 256 }, (_, i) => i - 128) };
        break;
      case 'gatemul':
        ops[op.name] = { kind: 'gatemul', requant: requant(), actMin: -128, actMax: 127 };
        break;
      case 'maxpool':
      case 'upsample':
        tensors[op.output] = { ...tensors[op.input] };
        break;
    }
  }
  return { arch, preprocessing: { ...DEFAULT_PREPROCESSING }, tensors, ops, meta: { provenance: { tool: 'test', date: '2026-01-01T00:00:00.000Z' } } };
}

/** Random preprocessed frames (uniform noise), for quick float/quantizer checks. */
export function noiseFrames(arch: Arch, count: number, seed = 7): Uint8Array[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => Uint8Array.from({ length: arch.height * arch.width * arch.channels }, () => Math.floor(r() * 256)));
}
