// The study's segmentation metrics, per image (../shared/docs/network.md):
// A = ground truth, B = prediction; TP = |A n B|, FP = |B \ A|, FN = |A \ B|, TN = rest.

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface ImageMetrics {
  accuracy: number;
  /** 2TP / (2TP + FP + FN); when both A and B are empty: 1 (a perfect empty answer) */
  dice: number;
  /** TP / (TP + FP + FN); 1 when both are empty */
  iou: number;
  /** TP / (TP + FN); NaN when A is empty (undefined) */
  sensitivity: number;
  /** TN / (TN + FP); NaN when the image is all lesion */
  specificity: number;
  /** fraction of the image predicted as lesion */
  predictedArea: number;
}

/** Counts over two masks of one size (non-zero = lesion). */
export function confusion(truth: Uint8Array, pred: Uint8Array): Confusion {
  if (truth.length !== pred.length) throw new RangeError(`confusion: masks differ in size (${truth.length} vs ${pred.length})`);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    const a = truth[i] !== 0;
    const b = pred[i] !== 0;
    if (a && b) tp++;
    else if (b) fp++;
    else if (a) fn++;
  }
  return { tp, fp, fn, tn: truth.length - tp - fp - fn };
}

export function metricsOf(c: Confusion): ImageMetrics {
  const all = c.tp + c.fp + c.fn + c.tn;
  const union = c.tp + c.fp + c.fn;
  return {
    accuracy: all ? (c.tp + c.tn) / all : NaN,
    dice: union ? (2 * c.tp) / (2 * c.tp + c.fp + c.fn) : 1,
    iou: union ? c.tp / union : 1,
    sensitivity: c.tp + c.fn ? c.tp / (c.tp + c.fn) : NaN,
    specificity: c.tn + c.fp ? c.tn / (c.tn + c.fp) : NaN,
    predictedArea: all ? (c.tp + c.fp) / all : 0,
  };
}

/** A normal image counts as "empty" when under 0.5% of it is predicted lesion. */
export const EMPTY_AREA = 0.005;

/** Mean of the defined (non-NaN) values; NaN if none. */
export function mean(values: number[]): number {
  const ok = values.filter((v) => !Number.isNaN(v));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
}
