// How far an int8 model is from its float source: per-tensor error statistics
// (int8 dequantized with the tensor's scale and zero point against the float
// reference), mask Dice and attention-map agreement. Used by `aunet compare`
// and the quantizer tests.
import type { QuantParams } from './qmodel.js';
import { confusion, metricsOf } from './datasets/metrics.js';

export interface LayerRow {
  name: string;
  /** root mean square of dequantized int8 - float, over every value of every image */
  rmse: number;
  maxAbs: number;
  /** cosine similarity of the two tensors, all images concatenated */
  cosine: number;
  /** float values seen (for reading rmse against the tensor's range) */
  floatMin: number;
  floatMax: number;
}

class Acc {
  n = 0;
  sq = 0;
  max = 0;
  dot = 0;
  nf = 0;
  nq = 0;
  lo = Infinity;
  hi = -Infinity;
}

/** Accumulates per-tensor statistics over many images, in insertion order. */
export function layerStats() {
  const acc = new Map<string, Acc>();
  return {
    add(name: string, float: Float32Array, q: Int8Array, p: QuantParams): void {
      if (float.length !== q.length) throw new RangeError(`fidelity: ${name} has ${float.length} float and ${q.length} int8 values`);
      let a = acc.get(name);
      if (!a) acc.set(name, (a = new Acc()));
      let { sq, max, dot, nf, nq, lo, hi } = a;
      for (let i = 0; i < float.length; i++) {
        const f = float[i];
        const d = p.scale * (q[i] - p.zeroPoint);
        const e = d - f;
        sq += e * e;
        if (Math.abs(e) > max) max = Math.abs(e);
        dot += d * f;
        nf += f * f;
        nq += d * d;
        if (f < lo) lo = f;
        if (f > hi) hi = f;
      }
      Object.assign(a, { sq, max, dot, nf, nq, lo, hi, n: a.n + float.length });
    },
    rows(): LayerRow[] {
      return [...acc].map(([name, a]) => ({
        name,
        rmse: Math.sqrt(a.sq / Math.max(1, a.n)),
        maxAbs: a.max,
        cosine: cosine(a.dot, a.nf, a.nq),
        floatMin: a.lo,
        floatMax: a.hi,
      }));
    },
  };
}

function cosine(dot: number, na: number, nb: number): number {
  if (na === 0 && nb === 0) return 1; // both all-zero: identical
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

/** Dice of two binary masks (non-zero = in); two empty masks agree perfectly (1). The study's definition, as eval uses it. */
export function dice(a: Uint8Array, b: Uint8Array): number {
  return metricsOf(confusion(a, b)).dice;
}

export interface MapAgreement {
  /** mean |float - int8| in probability units (0..1) */
  meanAbsDiff: number;
  maxAbsDiff: number;
  cosine: number;
  /** fraction of pixels on the same side of 0.5 */
  sameSide: number;
}

/** Agreement of a float probability map (0..1) with an 8-bit one (value / 256). */
export function mapAgreement(float: Float32Array, u8: Uint8Array): MapAgreement {
  if (float.length !== u8.length) throw new RangeError(`mapAgreement: ${float.length} vs ${u8.length} pixels`);
  let sum = 0;
  let max = 0;
  let dot = 0;
  let nf = 0;
  let nq = 0;
  let same = 0;
  for (let i = 0; i < float.length; i++) {
    const f = float[i];
    const q = u8[i] / 256;
    const d = Math.abs(f - q);
    sum += d;
    if (d > max) max = d;
    dot += f * q;
    nf += f * f;
    nq += q * q;
    if (f > 0.5 === u8[i] > 128) same++;
  }
  const n = Math.max(1, float.length);
  return { meanAbsDiff: sum / n, maxAbsDiff: max, cosine: cosine(dot, nf, nq), sameSide: same / n };
}

/** Float probability map -> mask with the engine's rule (prob > 0.5). */
export function floatMask(prob: Float32Array): Uint8Array {
  return Uint8Array.from(prob, (p) => (p > 0.5 ? 1 : 0));
}
