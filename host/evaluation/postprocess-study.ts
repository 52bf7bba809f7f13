// Which mask should the box draw from the network's probability map? Scores a
// grid of post-processing variants (pixel threshold x regions kept x holes
// filled x minimum region size x minimum mass of the largest region,
// models/lesion-mask.ts) on one split with eval's own path: `evaluate` runs the
// model once per image, then each variant's mask is resized back to the
// original size and scored with eval's metrics. "Shown" as eval counts it: on a
// frame the decision calls "no lesion", or where the variant leaves no pixel,
// nothing is shown. The ship rule and its grid: docs/models.md, "Post-processing,
// chosen on val".
//   node --import tsx host/evaluation/postprocess-study.ts MODEL DATASET SPLIT OUT.json [VARIANT...]
// VARIANT names (e.g. t128-keep0-fill0-min0-mass0) restrict the grid (test is measured for two).
//   node --import tsx host/evaluation/postprocess-study.ts --truth DATASET SPLIT OUT.json
// counts the 8-connected regions of each lesion image's ground truth (the union of its mask files, as eval reads it).
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { resizeBack, type Placement } from '../../camera/preprocess.js';
import { confusion, mean, metricsOf } from '../../models/datasets/metrics.js';
import { wilson } from '../../models/lesion-decision.js';
import { labelRegions, lesionMask, type MaskShaping } from '../../models/lesion-mask.js';
import { filterSplit, listBusi, readBusiImage, readBusiMask } from '../../models/datasets/busi.js';
import { readSplitManifest } from '../../models/datasets/split.js';
import type { Split } from '../../models/datasets/split.js';
import { evaluate } from './evaluate.js';
import { openPredictor } from './predictor.js';

export const GRID = {
  threshold: [96, 112, 128, 144, 160],
  keepFraction: [0, 1, 0.5, 0.25],
  fillHoles: [false, true],
  minRegionFraction: [0, 0.001, 0.0025, 0.005],
  minMass: [0, 8, 16, 32],
};

export interface Variant extends MaskShaping {
  threshold: number;
}

export const variantName = (v: Variant): string =>
  `t${v.threshold}-keep${v.keepFraction ?? 0}-fill${v.fillHoles ? 1 : 0}-min${v.minRegionFraction ?? 0}-mass${v.minMass ?? 0}`;

export function gridVariants(): Variant[] {
  const out: Variant[] = [];
  for (const threshold of GRID.threshold)
    for (const keepFraction of GRID.keepFraction)
      for (const fillHoles of GRID.fillHoles)
        for (const minRegionFraction of GRID.minRegionFraction)
          for (const minMass of GRID.minMass) out.push({ threshold, keepFraction, fillHoles, minRegionFraction, minMass });
  return out;
}

interface Frame {
  name: string;
  cls: string;
  lesion: boolean;
  prob: Uint8Array;
  truth: Uint8Array;
  placement: Placement;
  width: number;
  height: number;
}

export interface VariantRow {
  name: string;
  variant: Variant;
  /** mean over lesion images of the shown mask's Dice / IoU (0 where nothing is shown) */
  shownDice: number;
  shownIou: number;
  called: number;
  lesion: number;
  clean: number;
  normal: number;
  calledCi95: [number, number];
  cleanCi95: [number, number];
  /** images where this variant shows something other than the current one (t128, nothing shaped) */
  changed: number;
}

export function scoreVariant(frames: Frame[], v: Variant, current?: (Uint8Array | undefined)[]): VariantRow {
  const dice: number[] = [];
  const iou: number[] = [];
  let called = 0;
  let clean = 0;
  let changed = 0;
  frames.forEach((f, k) => {
    const m = lesionMask(f.prob, f.width, f.height, v.threshold, v);
    const shown = f.lesion && m.pixels > 0;
    if (current && !sameMask(shown ? m.mask : undefined, current[k])) changed++;
    if (f.cls === 'normal') {
      if (!shown) clean++;
      return;
    }
    if (shown) called++;
    const pred = shown ? resizeBack(m.mask, f.width, f.height, f.placement).data : new Uint8Array(f.truth.length);
    const s = metricsOf(confusion(f.truth, pred));
    dice.push(s.dice);
    iou.push(s.iou);
  });
  const lesion = frames.filter((f) => f.cls !== 'normal').length;
  const normal = frames.length - lesion;
  return { name: variantName(v), variant: v, shownDice: mean(dice), shownIou: mean(iou), called, lesion, clean, normal, calledCi95: wilson(called, lesion), cleanCi95: wilson(clean, normal), changed };
}

function sameMask(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return !a && !b;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** How many lesion images of a split have more than one region in their ground truth (any size, and >= 10 % of the largest). */
export function truthComponents(dataset: string, split: Split) {
  const lesion = filterSplit(listBusi(dataset, readSplitManifest()), split).filter((e) => e.cls !== 'normal');
  const per = lesion.map((e) => {
    const img = readBusiImage(e);
    const { regions } = labelRegions(readBusiMask(e, img.width, img.height).data, img.width, img.height);
    const largest = Math.max(0, ...regions.map((r) => r.pixels));
    return { name: e.name, maskFiles: e.masks.length, regions: regions.length, regions10: regions.filter((r) => r.pixels >= 0.1 * largest).length };
  });
  const count = (f: (p: (typeof per)[number]) => boolean) => per.filter(f).length;
  return { split, lesionImages: per.length, multipleMaskFiles: count((p) => p.maskFiles > 1), overOneRegion: count((p) => p.regions > 1), overOneRegionOf10pct: count((p) => p.regions10 > 1), empty: count((p) => p.regions === 0), images: per.filter((p) => p.regions !== 1) };
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--truth') {
    const r = truthComponents(argv[1], argv[2] as Split);
    writeFileSync(argv[3], `${JSON.stringify(r, null, 1)}\n`);
    const { images: _i, ...counts } = r;
    process.stdout.write(`${JSON.stringify(counts)}\n`);
    return;
  }
  const [model, dataset, split, out, ...only] = argv;
  if (!model || !dataset || !split || !out) {
    process.stderr.write('usage: postprocess-study.ts MODEL DATASET SPLIT OUT.json [VARIANT...]\n');
    process.exit(2);
  }
  const predictor = await openPredictor(model, { engine: 'direct' });
  const frames: Frame[] = [];
  const { summary } = await evaluate(basename(model), predictor, {
    dataset,
    split: split as Split,
    progress: true,
    onImage: (r, v) => frames.push({ name: r.entry.name, cls: r.entry.cls, lesion: r.decision.lesion, prob: v.prob, truth: v.truth, placement: v.placement, width: v.modelWidth, height: v.modelHeight }),
  });
  await predictor.close();
  const variants = gridVariants().filter((v) => only.length === 0 || only.includes(variantName(v)));
  const current = frames.map((f) => (f.lesion ? lesionMask(f.prob, f.width, f.height, 128).mask : undefined)).map((m) => (m && m.some((x) => x) ? m : undefined));
  const rows: VariantRow[] = [];
  const t0 = performance.now();
  for (const v of variants) {
    rows.push(scoreVariant(frames, v, current));
    if (rows.length % 40 === 0) process.stderr.write(`\r${rows.length}/${variants.length} variants`);
  }
  process.stderr.write(`\r${rows.length}/${variants.length} variants in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  const d = summary.decision;
  const evalFigures = { shownDice: d.shownLesion.dice, called: d.sensitivity.detected, lesion: d.sensitivity.n, clean: d.specificity.clean, normal: d.specificity.n };
  // one row a line, figures rounded: 640 variants stay a small file to diff
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  const header = { model: basename(model), split, images: frames.length, lesion: rows[0]?.lesion, normal: rows[0]?.normal, grid: only.length ? undefined : GRID, eval: evalFigures, columns: ['variant', 'shownDice', 'shownIou', 'called', 'clean', 'changed'] };
  const lines = rows.map((r) => JSON.stringify([r.name, r4(r.shownDice), r4(r.shownIou), r.called, r.clean, r.changed]));
  writeFileSync(out, `${JSON.stringify(header, null, 1).slice(0, -2)},\n "rows": [\n  ${lines.join(',\n  ')}\n ]\n}\n`);
  const f = (x: number) => x.toFixed(4);
  process.stdout.write(`eval (the current box): shown Dice ${f(evalFigures.shownDice)}, called ${evalFigures.called}/${evalFigures.lesion}, clean ${evalFigures.clean}/${evalFigures.normal}\n`);
  for (const r of [...rows].sort((a, b) => b.shownDice - a.shownDice).slice(0, 40)) {
    process.stdout.write(`${r.name.padEnd(40)} shown Dice ${f(r.shownDice)} IoU ${f(r.shownIou)} called ${r.called}/${r.lesion} clean ${r.clean}/${r.normal} changed ${r.changed}\n`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
