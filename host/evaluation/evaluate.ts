// Evaluation of a model on a BUSI-layout folder with the study's metrics, per
// image, at the ORIGINAL image size (the predicted mask resized back with
// nearest neighbour), exactly as the ground truth was drawn.
import cliProgress from 'cli-progress';
import { listBusi, filterSplit, readBusiImage, readBusiMask, type BusiClass, type BusiEntry, type Split } from '../../models/datasets/busi.js';
import { readSplitManifest } from '../../models/datasets/split.js';
import { decide, decisionRule, type LesionDecisionRule } from '../../models/lesion-decision.js';
import { summarizeDecisions, type DecisionResult, type DecisionSummary } from './decision-summary.js';
import { fingerprint, nearestTwin, TWIN_THRESHOLD } from './near-duplicates.js';
import { confusion, metricsOf, mean, EMPTY_AREA, type ImageMetrics } from '../../models/datasets/metrics.js';
import { preprocess, resizeBack, type Placement } from '../../camera/preprocess.js';
import { UsageError } from '../../common/errors.js';
import type { Predictor } from './predictor.js';

export interface ImageResult extends ImageMetrics {
  entry: BusiEntry;
  width: number;
  height: number;
  decision: DecisionResult;
  /** best fingerprint correlation with the --twins-of set (when given) */
  twin?: number;
}

export interface LesionClassSummary {
  n: number;
  dice: number;
  iou: number;
  accuracy: number;
  sensitivity: number;
  specificity: number;
}

/** The JSON `aunet eval --json` prints (the schema). */
export interface EvalSummary {
  model: string;
  images: number;
  classes: { benign: LesionClassSummary; malignant: LesionClassSummary; normal: { n: number; emptyRate: number } };
  lesion: { n: number; dice: number; iou: number };
  /** the lesion-present decision per image and what the operator sees */
  decision: DecisionSummary;
  /** with --twins-of: how many evaluated images have a near-duplicate there, and the figures without them */
  twins?: { of: string; threshold: number; withTwin: number; twinFree: Omit<EvalSummary, 'twins' | 'model'> };
}

/** What a report may draw for one image: all at the original size, attention maps at their native size. */
export interface ImageViews {
  image: Uint8Array;
  truth: Uint8Array;
  pred: Uint8Array;
  /** model-size probability map (probability * 256) */
  prob: Uint8Array;
  placement: Placement;
  modelWidth: number;
  modelHeight: number;
  attention?: { width: number; height: number; data: Uint8Array }[];
}

export interface EvalOptions {
  dataset: string;
  split: Split | 'all';
  /** the split manifest for split != 'all' (default: the shipped one) */
  splitFile?: string;
  progress?: boolean;
  /** called for each image after scoring (reports keep a few) */
  onImage?: (r: ImageResult, views: ImageViews) => void;
  /** the lesion-present rule (default: the model header's, else "some pixel over 0.5") */
  decision?: LesionDecisionRule;
  /** fingerprints of a reference set (e.g. a training split): each image's best correlation with it is reported */
  twinsOf?: { label: string; prints: Float32Array[]; threshold?: number };
}

export async function evaluate(modelName: string, predictor: Predictor, o: EvalOptions): Promise<{ summary: EvalSummary; results: ImageResult[] }> {
  const manifest = o.split === 'all' ? undefined : readSplitManifest(o.splitFile);
  const entries = filterSplit(listBusi(o.dataset, manifest, o.splitFile), o.split);
  if (entries.length === 0) throw new UsageError(`no images in split '${o.split}' of ${o.dataset}`);
  const bar = o.progress
    ? new cliProgress.SingleBar({ format: 'eval {bar} {value}/{total} images | {name}', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(entries.length, 0, { name: '' });
  const results: ImageResult[] = [];
  const rule = o.decision ?? decisionRule({ meta: predictor.meta });
  try {
    for (const e of entries) {
      const img = readBusiImage(e);
      const truth = readBusiMask(e, img.width, img.height);
      const input = preprocess(img, predictor.size, predictor.preprocessing);
      const p = await predictor.predict(input.data);
      const pred = resizeBack(p.mask, predictor.size.width, predictor.size.height, input.placement);
      const d = decide(p.prob, rule);
      // a frame decided "no lesion" shows no outline: the operator sees an empty mask
      const shown = d.lesion ? metricsOf(confusion(truth.data, pred.data)) : metricsOf(confusion(truth.data, new Uint8Array(truth.data.length)));
      const decision: DecisionResult = { cls: e.cls, score: d.score, lesion: d.lesion, shownDice: shown.dice, shownIou: shown.iou };
      const twin = o.twinsOf ? nearestTwin([fingerprint(img)], o.twinsOf.prints)[0].correlation : undefined;
      const r: ImageResult = { entry: e, width: img.width, height: img.height, ...metricsOf(confusion(truth.data, pred.data)), decision, ...(twin === undefined ? {} : { twin }) };
      results.push(r);
      o.onImage?.(r, { image: img.data, truth: truth.data, pred: pred.data, prob: p.prob, placement: input.placement, modelWidth: input.width, modelHeight: input.height, attention: p.attention });
      bar?.increment(1, { name: e.name });
    }
  } finally {
    bar?.stop();
  }
  const summary = summarize(modelName, results, rule);
  if (o.twinsOf) {
    const threshold = o.twinsOf.threshold ?? TWIN_THRESHOLD;
    const free = results.filter((r) => r.twin! < threshold);
    const { model: _m, ...twinFree } = summarize(modelName, free, rule);
    summary.twins = { of: o.twinsOf.label, threshold, withTwin: results.length - free.length, twinFree };
  }
  return { summary, results };
}

export function summarize(modelName: string, results: ImageResult[], rule: LesionDecisionRule = decisionRule({})): EvalSummary {
  const of = (cls: BusiClass) => results.filter((r) => r.entry.cls === cls);
  const lesionRow = (rs: ImageResult[]): LesionClassSummary => ({
    n: rs.length,
    dice: mean(rs.map((r) => r.dice)),
    iou: mean(rs.map((r) => r.iou)),
    accuracy: mean(rs.map((r) => r.accuracy)),
    sensitivity: mean(rs.map((r) => r.sensitivity)),
    specificity: mean(rs.map((r) => r.specificity)),
  });
  const normal = of('normal');
  const lesion = [...of('benign'), ...of('malignant')];
  return {
    model: modelName,
    images: results.length,
    classes: {
      benign: lesionRow(of('benign')),
      malignant: lesionRow(of('malignant')),
      normal: { n: normal.length, emptyRate: normal.length ? normal.filter((r) => r.predictedArea < EMPTY_AREA).length / normal.length : NaN },
    },
    lesion: { n: lesion.length, dice: mean(lesion.map((r) => r.dice)), iou: mean(lesion.map((r) => r.iou)) },
    decision: summarizeDecisions(rule, results.map((r) => r.decision)),
  };
}
