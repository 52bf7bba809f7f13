// The lesion-present decision per frame, derived from the network's own output
// (no new op: the format, both engines, the importers and every golden fixture
// stay as they are). Score = mean of the k highest values of the 8-bit
// probability map (k = PRESENCE_FRACTION of the pixels: 64 at 128x128), in
// probability units; "lesion" when score >= threshold. A threshold is >= 0.5,
// so a "lesion" frame always has some pixel over 0.5, i.e. a mask to outline.
// The rule and its threshold live in the model header (meta.decision) because
// they belong to the weights: `aunet decision calibrate` chooses the threshold
// on a split the figures are not measured on (docs/models.md).
import type { QModel } from './qmodel.js';

/** k of the top-k mean, as a fraction of the pixels (64 of 128x128; the training's presence term uses the same k). */
export const PRESENCE_FRACTION = 64 / (128 * 128);

export interface LesionDecisionRule {
  rule: 'topk-mean';
  /** fraction of pixels averaged */
  fraction: number;
  /** lesion when the score is >= threshold (probability units, >= 0.5) */
  threshold: number;
  /** how the threshold was chosen (split, counts, targets, intervals) */
  calibration?: Record<string, unknown>;
}

/** Without a calibrated rule: lesion when some pixel is over 0.5 (what the mask alone showed before). */
export const MASK_ONLY_RULE: LesionDecisionRule = { rule: 'topk-mean', fraction: 1 / (128 * 128), threshold: 129 / 256 };

/** Mean of the top k of an 8-bit probability map (value / 256), k = max(1, round(fraction * n)). */
export function presenceScore(prob: Uint8Array, fraction: number): number {
  const k = Math.max(1, Math.min(prob.length, Math.round(fraction * prob.length)));
  // counting sort over 256 values: exact, O(n), no allocation per frame beyond the histogram
  const hist = new Uint32Array(256);
  for (let i = 0; i < prob.length; i++) hist[prob[i]]++;
  let left = k;
  let sum = 0;
  for (let v = 255; v >= 0 && left > 0; v--) {
    const take = Math.min(left, hist[v]);
    sum += take * v;
    left -= take;
  }
  return sum / k / 256;
}

export function decide(prob: Uint8Array, rule: LesionDecisionRule): { lesion: boolean; score: number } {
  const score = presenceScore(prob, rule.fraction);
  return { lesion: score >= rule.threshold, score };
}

/** The model's rule from its header, or the mask-only rule for a model without one. */
export function decisionRule(model: Pick<QModel, 'meta'>): LesionDecisionRule {
  const d = model.meta?.decision as Partial<LesionDecisionRule> | undefined;
  if (d && d.rule === 'topk-mean' && typeof d.fraction === 'number' && typeof d.threshold === 'number' && d.fraction > 0 && d.fraction <= 1 && d.threshold >= 0.5 && d.threshold <= 1) {
    return d as LesionDecisionRule;
  }
  return MASK_ONLY_RULE;
}

/** Wilson score interval (95%) of a proportion k / n: honest for small n, where 21 normal images are few. */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

export interface ThresholdChoice {
  threshold: number;
  sensitivity: number;
  specificity: number;
  lesion: number;
  normal: number;
}

/**
 * The highest threshold (>= 0.5, on the 1/256 grid) that keeps at least `minSensitivity` of the lesion
 * images called "lesion": missing a lesion is the worse error for a monitor that draws attention, so
 * sensitivity is the constraint and specificity what the threshold then buys.
 */
export function chooseThreshold(lesionScores: number[], normalScores: number[], minSensitivity: number): ThresholdChoice {
  if (lesionScores.length === 0) throw new RangeError('decision: no lesion images to calibrate on');
  let best: ThresholdChoice | undefined;
  for (let v = 128; v <= 256; v++) {
    const t = v / 256;
    const sens = lesionScores.filter((s) => s >= t).length / lesionScores.length;
    if (sens < minSensitivity) break;
    const spec = normalScores.length ? normalScores.filter((s) => s < t).length / normalScores.length : NaN;
    best = { threshold: t, sensitivity: sens, specificity: spec, lesion: lesionScores.length, normal: normalScores.length };
  }
  if (!best) {
    const t = 0.5;
    best = { threshold: t, sensitivity: lesionScores.filter((s) => s >= t).length / lesionScores.length, specificity: normalScores.filter((s) => s < t).length / normalScores.length, lesion: lesionScores.length, normal: normalScores.length };
  }
  return best;
}
