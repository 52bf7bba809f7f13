// Calibration that minimises the error of the network's OUTPUT, not of each
// tensor alone (docs/quantization.md, "auto"). Per-tensor methods (min/max,
// percentile, MSE) each fit one tensor; on a model they did not shape, one
// badly placed range (typically an attention gate's output) flips whole masks.
// This search runs the real int8 engine on a few calibration frames for every
// candidate and keeps what brings its masks closest to the float model's:
//   1. cross-layer equalisation strength in {0, 0.5, 1} (models/equalize.ts),
//   2. the best whole-model method (minmax, percentile 99.99, mse),
//   3. one pass over the tensors in graph order, trying for each the other
//      candidate ranges (minmax, percentiles 99.99 / 99.9, mse) and keeping a
//      change only when the objective improves.
// Objective: 1 - mean mask Dice (float vs int8, two empty masks agree) +
// mean |p_int8 - p_float|, over the search frames. The engine is injected
// (models/ sits below the engines); `aunet quantize --method auto` passes the
// direct WASM engine.
import type { FloatModel } from './float-model.js';
import { FloatReference } from './float-reference.js';
import { dice, floatMask } from './fidelity.js';
import { equalizeModel } from './equalize.js';
import type { QModel } from './qmodel.js';
import { buildQModel, collectStats, rangesOf, DEFAULT_PERCENTILE, type CalibrationMethod, type QuantizeOptions } from './quantizer.js';

/** Runs an int8 model on frames and returns each probability map (uint8, value / 256). */
export type Int8Probe = (q: QModel, frames: Uint8Array[]) => Promise<Uint8Array[]>;

export const EQUALIZE_STRENGTHS = [0, 0.5, 1] as const;
/** frames the search runs the engine on (evenly spaced over the calibration set) */
export const SEARCH_FRAMES = 24;
/** frames whose float statistics set the candidate ranges (the float reference is the slow part) */
export const STATISTICS_FRAMES = 32;

interface Candidate {
  label: string;
  ranges: Map<string, [number, number]>;
}

export interface SearchRecord {
  method: 'auto';
  equalize: number;
  start: string;
  objective: { start: number; end: number; minmax: number; percentile: number; mse: number };
  /** tensors whose range the per-tensor pass changed, with the chosen candidate */
  changed: Record<string, string>;
  searchFrames: number;
  evaluations: number;
}

export async function autoQuantize(
  source: FloatModel,
  calibration: Uint8Array[],
  probe: Int8Probe,
  options: QuantizeOptions & { onStage?: (stage: string, done: number, total: number) => void } = {},
): Promise<{ model: QModel; record: SearchRecord }> {
  const spaced = (k: number) => Array.from({ length: Math.min(k, calibration.length) }, (_, i) => calibration[Math.floor((i * calibration.length) / Math.min(k, calibration.length))]);
  const search = spaced(SEARCH_FRAMES);
  const n = search.length;
  const statFrames = spaced(STATISTICS_FRAMES);
  const stage = options.onStage ?? (() => {});
  // float references are the same for every equalisation (it is exact): compute once
  const ref = new FloatReference(source);
  const floatMasks = search.map((f) => {
    const p = ref.run(f, { keep: (t) => t === ref.graph.output }).get(ref.graph.output)!;
    return { mask: floatMask(p), prob: p };
  });
  let evaluations = 0;
  const objective = async (model: FloatModel, ranges: Map<string, [number, number]>): Promise<number> => {
    evaluations++;
    const q = buildQModel(model, ranges, { ...options, calibrationRecord: {} });
    const probs = await probe(q, search);
    let loss = 0;
    probs.forEach((u8, i) => {
      const mask = Uint8Array.from(u8, (v) => (v > 128 ? 1 : 0));
      let l1 = 0;
      for (let k = 0; k < u8.length; k++) l1 += Math.abs(u8[k] / 256 - floatMasks[i].prob[k]);
      loss += 1 - dice(floatMasks[i].mask, mask) + l1 / u8.length;
    });
    return loss / probs.length;
  };

  // 1 + 2: equalisation strength x whole-model method
  const stats0 = collectStats(source, statFrames, { onProgress: (d, t) => stage('statistics (strength 0)', d, t) });
  let best = { loss: Infinity, strength: 0, model: source, label: '', stats: stats0, perMethod: { minmax: 0, percentile: 0, mse: 0 } };
  for (const strength of EQUALIZE_STRENGTHS) {
    const model = strength === 0 ? source : equalizeModel(source, stats0.channelMax, strength).model;
    const stats = strength === 0 ? stats0 : collectStats(model, statFrames, { onProgress: (d, t) => stage(`statistics (strength ${strength})`, d, t) });
    const perMethod = { minmax: 0, percentile: 0, mse: 0 };
    for (const method of ['minmax', 'percentile', 'mse'] as CalibrationMethod[]) {
      const loss = await objective(model, rangesOf(stats, method));
      perMethod[method] = loss;
      stage(`equalise ${strength}, ${method}: objective ${loss.toFixed(4)}`, 0, 0);
      if (loss < best.loss) best = { loss, strength, model, label: method, stats, perMethod };
    }
  }
  // 3: per-tensor pass
  const candidates: Candidate[] = [
    { label: 'minmax', ranges: rangesOf(best.stats, 'minmax') },
    { label: 'percentile', ranges: rangesOf(best.stats, 'percentile', DEFAULT_PERCENTILE) },
    { label: 'percentile99.9', ranges: rangesOf(best.stats, 'percentile', 99.9) },
    { label: 'mse', ranges: rangesOf(best.stats, 'mse') },
  ];
  const current = new Map(candidates.find((c) => c.label === best.label)!.ranges);
  const chosen = new Map<string, string>();
  const start = best.loss;
  let loss = best.loss;
  const names = [...current.keys()];
  for (const [i, name] of names.entries()) {
    for (const c of candidates) {
      if (c.label === (chosen.get(name) ?? best.label)) continue;
      const r = c.ranges.get(name)!;
      const was = current.get(name)!;
      if (r[0] === was[0] && r[1] === was[1]) continue;
      current.set(name, r);
      const l = await objective(best.model, current);
      if (l < loss - 1e-6) {
        loss = l;
        chosen.set(name, c.label);
      } else current.set(name, was);
    }
    stage(`per-tensor ranges: objective ${loss.toFixed(4)}`, i + 1, names.length);
  }
  const record: SearchRecord = {
    method: 'auto',
    equalize: best.strength,
    start: best.label,
    objective: { start, end: loss, ...best.perMethod },
    changed: Object.fromEntries(chosen),
    searchFrames: n,
    evaluations,
  };
  const model = buildQModel(best.model, current, {
    ...options,
    calibrationRecord: { frames: calibration.length, statisticsFrames: statFrames.length, framesSha256: best.stats.framesSha256, ...record },
  });
  return { model, record };
}
