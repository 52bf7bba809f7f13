// Post-training int8 quantization of a FloatModel (docs/quantization.md):
// BatchNorm folded into the attention gates' affine ops, per-channel symmetric
// int8 weights with int32 biases, per-tensor asymmetric int8 activations whose
// ranges come from the float reference over calibration frames (min/max or a
// percentile of the values seen), every range widened to include 0 so that
// zero padding and ReLU are exact. Fixed params: input (pixel - 128), sigmoid
// outputs (1/256, -128); max-pool and upsample outputs reuse their input's.
import { createHash } from 'node:crypto';
import type { FloatModel } from './float-model.js';
import { FloatReference, foldBatchNorm } from './float-reference.js';
import { buildGraph, type Graph } from './graph.js';
import { INPUT_PARAMS, SIGMOID_OUTPUT, type QModel, type QOpParams, type QuantParams } from './qmodel.js';
import { quantizeAddParams, quantizeMultiplier, sigmoidLut } from './quant-math.js';
import { validateQModel } from './qmodel-check.js';
import { packageVersion } from '../common/package-root.js';

export type CalibrationMethod = 'minmax' | 'percentile' | 'mse';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'mse'];

export interface QuantizeOptions {
  method?: CalibrationMethod;
  /** 'minmax': the full range seen; 'percentile': see below; 'mse': the range shrunk to minimise the int8 error of the values seen */
  /** for 'percentile': keep values between the (100-p)th and the pth percentile; default 99.99 */
  percentile?: number;
  onProgress?: (done: number, total: number) => void;
  /** what the calibration frames were (recorded in meta.provenance.calibration), e.g. { source: 'phantom', seed: 1 } */
  calibration?: Record<string, unknown>;
  /** ISO date recorded in the provenance (default: now); fixed in tests for reproducible files */
  date?: string;
  /** clip the calibrated range of every sigmoid input to +-ln(511), where the int8 sigmoid saturates (default true) */
  clipSigmoidInputs?: boolean;
  /** optional metrics recorded in meta.metrics */
  metrics?: Record<string, unknown>;
}

export const DEFAULT_PERCENTILE = 99.99;
/** percentile: on a trained model it kept the int8 mask closest to float (docs/model-tools.md) */
export const DEFAULT_METHOD: CalibrationMethod = 'percentile';
/** |logit| beyond which the int8 sigmoid (output scale 1/256) saturates: sigmoid(x) * 256 rounds to 0 or 256 */
export const SIGMOID_SATURATION = Math.log(511);
/** values kept per tensor for percentile calibration (reservoir sample) */
const RESERVOIR = 1 << 17;
/** candidate clipping factors 1, 0.98, ..., 0.02 for 'mse' calibration */
const MSE_STEPS = 50;

export function quantizeModel(model: FloatModel, calibration: Uint8Array[], options: QuantizeOptions = {}): QModel {
  const method = options.method ?? DEFAULT_METHOD;
  const percentile = options.percentile ?? DEFAULT_PERCENTILE;
  if (!CALIBRATION_METHODS.includes(method)) throw new RangeError(`quantize: unknown calibration method '${String(method)}' (${CALIBRATION_METHODS.join(', ')})`);
  if (method === 'percentile' && !(percentile > 50 && percentile <= 100)) throw new RangeError(`quantize: percentile must be in (50, 100], got ${percentile}`);
  const stats = collectStats(model, calibration, { samples: method !== 'minmax', onProgress: options.onProgress });
  return buildQModel(model, rangesOf(stats, method, percentile), {
    ...options,
    calibrationRecord: { frames: calibration.length, framesSha256: stats.framesSha256, method, ...(method === 'percentile' ? { percentile } : {}) },
  });
}

/** What one float pass over the calibration frames leaves: per-tensor statistics. */
export interface CalibrationStats {
  tensors: Map<string, TensorStats>;
  /** per channel max |value| of every tensor with several channels (cross-layer equalisation reads them) */
  channelMax: Map<string, Float32Array>;
  framesSha256: string;
  frames: number;
}

/** Runs the float reference over the calibration frames once and keeps each calibrated tensor's statistics. */
export function collectStats(model: FloatModel, calibration: Uint8Array[], o: { samples?: boolean; onProgress?: (done: number, total: number) => void } = {}): CalibrationStats {
  if (calibration.length === 0) throw new RangeError('quantize: at least one calibration frame is needed');
  const ref = new FloatReference(model);
  const g = ref.graph;
  const fixed = fixedTensors(g);
  const tensors = new Map<string, TensorStats>();
  const channelMax = new Map<string, Float32Array>();
  for (const name of g.tensors.keys()) if (!fixed.has(name)) tensors.set(name, new TensorStats(o.samples ?? true, hashSeed(name)));
  const frameHash = createHash('sha256');
  calibration.forEach((frame, i) => {
    frameHash.update(frame);
    ref.run(frame, {
      keep: () => false,
      onTensor: (name, data) => {
        tensors.get(name)?.add(data);
        const c = g.tensors.get(name)!.c;
        if (c > 1) {
          let m = channelMax.get(name);
          if (!m) channelMax.set(name, (m = new Float32Array(c)));
          for (let k = 0; k < data.length; k++) {
            const v = Math.abs(data[k]);
            if (v > m[k % c]) m[k % c] = v;
          }
        }
      },
    });
    o.onProgress?.(i + 1, calibration.length);
  });
  return { tensors, channelMax, framesSha256: frameHash.digest('hex'), frames: calibration.length };
}

/** Real ranges [lo, hi] of every calibrated tensor by one method. */
export function rangesOf(stats: CalibrationStats, method: CalibrationMethod, percentile = DEFAULT_PERCENTILE): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const [name, s] of stats.tensors) out.set(name, method === 'percentile' ? s.percentileRange(percentile) : method === 'mse' ? s.mseRange() : [s.min, s.max]);
  return out;
}

export interface BuildOptions extends QuantizeOptions {
  /** recorded as meta.provenance.calibration (before options.calibration's own fields) */
  calibrationRecord: Record<string, unknown>;
}

/** The int8 model for given activation ranges: weights, biases, requantization, fixed params. */
export function buildQModel(model: FloatModel, ranges: Map<string, [number, number]>, options: BuildOptions): QModel {
  const g = buildGraph(model.arch);
  const sigmoidInputs = new Set(g.ops.flatMap((op) => (op.kind === 'sigmoid' ? [op.input] : [])));
  const clip = options.clipSigmoidInputs ?? true;
  const tensors: Record<string, QuantParams> = {};
  for (const [name, range] of ranges) {
    let [lo, hi] = range;
    if (clip && sigmoidInputs.has(name)) {
      // Outside +-ln(511) the int8 sigmoid output (scale 1/256) is already 0 or 255/256,
      // so a wider logit range only coarsens the steps where the output does change.
      lo = Math.max(lo, -SIGMOID_SATURATION);
      hi = Math.min(hi, SIGMOID_SATURATION);
    }
    tensors[name] = asymmetricParams(lo, hi);
  }
  tensors.input = { ...INPUT_PARAMS };
  for (const op of g.ops) {
    if (op.kind === 'sigmoid') tensors[op.output] = { ...SIGMOID_OUTPUT };
    // graph order: a pool/upsample input is always set before its output
    if (op.kind === 'maxpool' || op.kind === 'upsample') tensors[op.output] = { ...tensors[op.input] };
  }

  const ops: Record<string, QOpParams> = {};
  for (const op of g.ops) {
    const out = tensors[op.output];
    switch (op.kind) {
      case 'conv': {
        const c = model.convs[op.name];
        const inp = tensors[op.input];
        const q = quantizeChannels(c.weights, c.bias, op.cout, inp.scale, out.scale);
        ops[op.name] = {
          kind: 'conv', ...q, pads: [...(c.pads ?? op.pads)] as unknown as typeof op.pads,
          actMin: op.relu ? Math.max(-128, out.zeroPoint) : -128, actMax: 127,
        };
        break;
      }
      case 'affine': {
        // BatchNorm folded: a per-channel weight (one value per channel) and a bias
        const { a, b } = foldBatchNorm(model, op.name, op.channels);
        const q = quantizeChannels(a, b, op.channels, tensors[op.input].scale, out.scale);
        ops[op.name] = { kind: 'affine', ...q, actMin: -128, actMax: 127 };
        break;
      }
      case 'add': {
        const p = quantizeAddParams(tensors[op.inputs[0]].scale, tensors[op.inputs[1]].scale, out.scale);
        ops[op.name] = { kind: 'add', leftShift: p.leftShift, inputA: p.inputA, inputB: p.inputB, output: p.output, actMin: -128, actMax: 127 };
        break;
      }
      case 'concat':
        ops[op.name] = {
          kind: 'concat',
          inputA: quantizeMultiplier(tensors[op.inputs[0]].scale / out.scale),
          inputB: quantizeMultiplier(tensors[op.inputs[1]].scale / out.scale),
        };
        break;
      case 'sigmoid':
        ops[op.name] = { kind: 'sigmoid', lut: sigmoidLut(tensors[op.input].scale, tensors[op.input].zeroPoint) };
        break;
      case 'gatemul':
        // real product = (a+128)/256 * skipScale*(skip - skipZp)
        ops[op.name] = { kind: 'gatemul', requant: quantizeMultiplier((tensors[op.skip].scale * SIGMOID_OUTPUT.scale) / out.scale), actMin: -128, actMax: 127 };
        break;
      case 'maxpool':
      case 'upsample':
        break;
    }
  }

  const q: QModel = {
    arch: { ...model.arch },
    preprocessing: model.preprocessing,
    tensors,
    ops,
    meta: {
      provenance: {
        source: model.source ?? { format: 'unknown' },
        calibration: {
          ...options.calibrationRecord,
          clipSigmoidInputs: clip,
          ...options.calibration,
        },
        tool: { name: 'aunet-edge', version: packageVersion() },
        date: options.date ?? new Date().toISOString(),
      },
      ...(options.metrics ? { metrics: options.metrics } : {}),
    },
  };
  validateQModel(q);
  return q;
}

/** Asymmetric int8 params for the real range [lo, hi], widened to include 0 (so 0 is exact). */
export function asymmetricParams(lo: number, hi: number): QuantParams {
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  // a tensor that never left 0 during calibration: any scale represents it; use [0, 1]
  if (!(hi - lo > 1e-12) || !Number.isFinite(hi - lo)) {
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`quantize: non-finite activation range [${lo}, ${hi}]`);
    hi = lo + 1;
  }
  const scale = (hi - lo) / 255;
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}

/**
 * Per-output-channel symmetric int8 weights (scale = max|w| / 127), int32 bias
 * in units of inputScale * weightScale, and the per-channel requantization.
 * `weights` holds `channels` equal, contiguous slices (OHWI conv or one value per channel).
 */
export function quantizeChannels(weights: Float32Array, bias: Float32Array, channels: number, inputScale: number, outputScale: number) {
  const { q, weightScales } = quantizedWeights(weights, channels);
  const qBias = new Int32Array(channels);
  const multiplier = new Int32Array(channels);
  const shift = new Int32Array(channels);
  for (let o = 0; o < channels; o++) {
    const accScale = inputScale * weightScales[o];
    qBias[o] = Math.max(-2147483647, Math.min(2147483647, Math.round(bias[o] / accScale)));
    const r = quantizeMultiplier(accScale / outputScale);
    multiplier[o] = r.multiplier;
    shift[o] = r.shift;
  }
  return { weights: q, weightScales, bias: qBias, multiplier, shift };
}

/**
 * Per-output-channel symmetric int8 weights (scale = max|w| / 127). They depend on the float weights
 * alone, so the calibration search, which rebuilds the model for every candidate range, quantizes
 * each weight array once (cached by array identity; the arrays are never mutated after import).
 */
const weightCache = new WeakMap<Float32Array, { q: Int8Array; weightScales: Float32Array }>();
function quantizedWeights(weights: Float32Array, channels: number): { q: Int8Array; weightScales: Float32Array } {
  const hit = weightCache.get(weights);
  if (hit && hit.weightScales.length === channels) return hit;
  const per = weights.length / channels;
  const q = new Int8Array(weights.length);
  const weightScales = new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    let m = 0;
    for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(weights[o * per + i]));
    // an all-zero channel: any scale works, the bias alone carries the output
    const s = Math.fround(m > 0 ? m / 127 : 1);
    weightScales[o] = s;
    for (let i = 0; i < per; i++) q[o * per + i] = Math.max(-127, Math.min(127, Math.round(weights[o * per + i] / s)));
  }
  const r = { q, weightScales };
  weightCache.set(weights, r);
  return r;
}

/** Tensors whose params are fixed or inherited, so never calibrated. */
function fixedTensors(g: Graph): Set<string> {
  const s = new Set<string>(['input']);
  for (const op of g.ops) if (op.kind === 'sigmoid' || op.kind === 'maxpool' || op.kind === 'upsample') s.add(op.output);
  return s;
}

/** Running min/max, and a reservoir sample of the values for percentile and mse ranges (exported for tests). */
export class TensorStats {
  min = Infinity;
  max = -Infinity;
  private seen = 0;
  private readonly sample: Float32Array | null;
  private rng: number;
  constructor(keepSample: boolean, seed: number) {
    this.sample = keepSample ? new Float32Array(RESERVOIR) : null;
    this.rng = seed || 1;
  }
  add(data: Float32Array): void {
    let lo = this.min;
    let hi = this.max;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.min = lo;
    this.max = hi;
    const s = this.sample;
    if (!s) return;
    // Reservoir sampling, Li's Algorithm L: jumps straight to the next value that
    // enters the sample, so a frame costs O(replacements), not one random draw per
    // value. A deterministic xorshift32 keeps files reproducible.
    let i = 0;
    for (; i < data.length && this.seen < RESERVOIR; i++, this.seen++) s[this.seen] = data[i];
    if (this.seen < RESERVOIR) return;
    if (this.next < 0) this.skip(true);
    const end = this.seen + (data.length - i);
    while (this.next < end) {
      s[Math.floor(this.uniform() * RESERVOIR)] = data[i + this.next - this.seen];
      this.skip(false);
    }
    this.seen = end;
  }
  /** global index of the next value to enter the sample (-1: not started) */
  private next = -1;
  private w = 1;
  private skip(first: boolean): void {
    this.w *= Math.exp(Math.log(this.uniform()) / RESERVOIR);
    const base = first ? RESERVOIR - 1 : this.next;
    this.next = base + Math.floor(Math.log(this.uniform()) / Math.log(1 - this.w)) + 1;
  }
  /** uniform in (0, 1) */
  private uniform(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng / 4294967296;
  }
  /**
   * The range [a*min, a*max] (a in (0, 1]) whose int8 quantization of the
   * sampled values has the least mean squared error: clipping a few outliers
   * buys finer steps for everything else.
   */
  mseRange(): [number, number] {
    const n = Math.min(this.seen, RESERVOIR);
    const v = this.sample!.subarray(0, n);
    const lo0 = Math.min(this.min, 0);
    const hi0 = Math.max(this.max, 0);
    let best: [number, number] = [lo0, hi0];
    let bestErr = Infinity;
    for (let k = 0; k < MSE_STEPS; k++) {
      const a = 1 - k / MSE_STEPS;
      const { scale, zeroPoint } = asymmetricParams(a * lo0, a * hi0);
      let err = 0;
      for (let i = 0; i < n; i++) {
        const q = Math.max(-128, Math.min(127, Math.round(v[i] / scale) + zeroPoint));
        const e = (q - zeroPoint) * scale - v[i];
        err += e * e;
      }
      if (err < bestErr) {
        bestErr = err;
        best = [a * lo0, a * hi0];
      }
    }
    return best;
  }
  percentileRange(p: number): [number, number] {
    const n = Math.min(this.seen, RESERVOIR);
    const sorted = this.sample!.slice(0, n).sort();
    const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.round((q / 100) * (n - 1))))];
    return [at(100 - p), at(p)];
  }
}

function hashSeed(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

