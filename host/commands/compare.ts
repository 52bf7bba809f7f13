// aunet compare: how much did quantization change the answer? Runs the float
// source (models/float-reference.ts) and the int8 model (the direct engine,
// every tensor kept) on each image of a folder; reports per-layer RMSE, max
// absolute error and cosine (int8 dequantized vs float), per-image mask Dice
// and attention-map agreement, and draws the worst images side by side.
// Sigmoid inputs are compared within the range where the sigmoid can still change.
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import { FloatReference } from '../../models/float-reference.js';
import { SIGMOID_SATURATION } from '../../models/quantizer.js';
import { dice, floatMask, layerStats, mapAgreement, type LayerRow, type MapAgreement } from '../../models/fidelity.js';
import { writeRgbPng } from '../../common/image-io.js';
import { applyColormap, drawContour, greyToRgb, overlayHeatmap } from '../../common/colormap.js';
import { UsageError } from '../../common/errors.js';
import { parseInteger } from '../../common/cli-args.js';
import { loadModel } from '../load/model-loader.js';
import { loadFloatModel } from '../load/float-model-loader.js';
import { loadEngine } from '../load/engine-loader.js';
import { evenlySpaced, imageInput, listImages } from './support/model-inputs.js';
import { kernelsOption } from './support/engine-options.js';
import { splitOption } from './support/split-option.js';
import { decide, decisionRule } from '../../models/lesion-decision.js';
import { listBusi, filterSplit } from '../../models/datasets/busi.js';
import { readSplitManifest, type Split } from '../../models/datasets/split.js';
import { enlarge, outputFolder, sideBySide } from './support/render.js';

interface Options {
  float: string;
  int8: string;
  dataset: string;
  json?: boolean;
  out?: string;
  limit?: string;
  worst: string;
  kernels: string;
  progress: boolean;
  split?: string;
  splitFile?: string;
}

export interface CompareReport {
  images: number;
  /** mean over images of the Dice between the float and the int8 mask (two empty masks count 1) */
  maskDice: number;
  minMaskDice: number;
  /** the lowest per-layer cosine, and its tensor */
  minLayerCosine: number;
  worstLayer: string;
  layers: Pick<LayerRow, 'name' | 'rmse' | 'maxAbs' | 'cosine'>[];
  /** a1..a4: mean over images */
  attention: ({ map: string } & MapAgreement)[];
  perImage: { file: string; maskDice: number; attentionMeanAbsDiff: number[]; floatLesion: boolean; int8Lesion: boolean; flip: boolean }[];
  worst: string[];
  /** images where float and int8 disagree on the lesion-present decision (the model header's rule): what an operator would see change */
  flips: string[];
}

interface Worst {
  file: string;
  dice: number;
  picture: Uint8Array;
  floatProb: Uint8Array;
  int8Prob: Uint8Array;
}

export function register(program: Command): void {
  program
    .command('compare')
    .description('compare an int8 model with its float source, per layer and per image')
    .requiredOption('--float <model>', 'float source: .onnx or .h5')
    .requiredOption('--int8 <model>', 'int8 model (.aunet)')
    .requiredOption('--dataset <dir>', 'images (PNG/JPEG, recursively; BUSI masks X_mask.png, X_mask_1.png, ... skipped), e.g. a BUSI folder')
    .option('--json', 'print one JSON object instead of tables')
    .option('--out <dir>', 'write side-by-side PNGs of the worst images (and report.json) here')
    .option('--limit <n>', 'use N evenly spaced images of the folder')
    .addOption(splitOption('--split <split>', 'a BUSI-layout --dataset: only the images of this split (test: held out from every choice)'))
    .option('--split-file <file>', "with --split: the split manifest (default: the shipped split of the project's BUSI images)")
    .option('--worst <k>', 'how many worst images to draw', '4')
    .addOption(kernelsOption())
    .option('--no-progress', 'no progress bar')
    .action(async (o: Options) => {
      const limit = parseInteger(o.limit, '--limit', { min: 1 });
      const worstK = parseInteger(o.worst, '--worst', { min: 1 });
      const { model: q } = await loadModel(o.int8);
      const { model: f } = await loadFloatModel(o.float, { purpose: 'the comparison' });
      const a = q.arch;
      const b = f.arch;
      if (a.filters !== b.filters || a.height !== b.height || a.width !== b.width || a.channels !== b.channels) {
        throw new UsageError(`${o.int8} (F=${a.filters}, ${a.height}x${a.width}x${a.channels}) is not a quantization of ${o.float} (F=${b.filters}, ${b.height}x${b.width}x${b.channels})`);
      }
      const files = o.split ? evenlySpaced(filterSplit(listBusi(o.dataset, readSplitManifest(o.splitFile), o.splitFile), o.split as Split).map((e) => e.image), limit) : listImages(o.dataset, limit);
      if (files.length === 0) throw new UsageError(`${o.dataset}: no image in split '${o.split}'`);
      const { engine } = await loadEngine(q, { keepTensors: true, kernels: o.kernels });
      const rule = decisionRule(q);
      const ref = new FloatReference(f);
      const g = ref.graph;
      const stats = layerStats();
      const logits = new Set(g.ops.flatMap((op) => (op.kind === 'sigmoid' ? [op.input] : [])));
      const perImage: CompareReport['perImage'] = [];
      const att = [0, 1, 2, 3].map(() => ({ meanAbsDiff: 0, maxAbsDiff: 0, cosine: 0, sameSide: 0 }));
      let worst: Worst[] = [];
      const bar = o.progress ? new cliProgress.SingleBar({ format: 'comparing [{bar}] {value}/{total} images | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
      bar?.start(files.length, 0);
      for (const [n, file] of files.entries()) {
        const input = imageInput(file, a, q.preprocessing);
        const ft = ref.run(input.data);
        const r = engine.run(input.data);
        for (const name of g.tensors.keys()) {
          const fv = ft.get(name)!;
          stats.add(name, logits.has(name) ? clampLogits(fv) : fv, engine.tensor!(name), q.tensors[name]);
        }
        const fProb = ft.get(g.output)!;
        const d = dice(floatMask(fProb), r.mask);
        const agreements = g.attention.map((name, i) => mapAgreement(ft.get(name)!, r.attention[i].data));
        agreements.forEach((m, i) => {
          att[i].meanAbsDiff += m.meanAbsDiff;
          att[i].maxAbsDiff = Math.max(att[i].maxAbsDiff, m.maxAbsDiff);
          att[i].cosine += m.cosine;
          att[i].sameSide += m.sameSide;
        });
        const floatU8 = Uint8Array.from(fProb, (v) => Math.min(255, Math.round(v * 256)));
        const floatLesion = decide(floatU8, rule).lesion;
        const int8Lesion = decide(r.prob.data, rule).lesion;
        perImage.push({ file, maskDice: d, attentionMeanAbsDiff: agreements.map((m) => m.meanAbsDiff), floatLesion, int8Lesion, flip: floatLesion !== int8Lesion });
        if (o.out && (worst.length < worstK || d < worst[worst.length - 1].dice)) {
          const picture = new Uint8Array(a.width * a.height);
          for (let p = 0; p < picture.length; p++) picture[p] = input.data[p * a.channels];
          const floatProb = Uint8Array.from(fProb, (v) => Math.min(255, Math.round(v * 256)));
          worst = [...worst, { file, dice: d, picture, floatProb, int8Prob: Uint8Array.from(r.prob.data) }].sort((x, y) => x.dice - y.dice).slice(0, worstK);
        }
        bar?.update(n + 1);
      }
      bar?.stop();
      const N = files.length;
      const layers = stats.rows().map(({ name, rmse, maxAbs, cosine }) => ({ name, rmse, maxAbs, cosine }));
      const worstLayer = layers.reduce((x, y) => (y.cosine < x.cosine ? y : x));
      const report: CompareReport = {
        images: N,
        maskDice: perImage.reduce((s, p) => s + p.maskDice, 0) / N,
        minMaskDice: Math.min(...perImage.map((p) => p.maskDice)),
        minLayerCosine: worstLayer.cosine,
        worstLayer: worstLayer.name,
        layers,
        attention: att.map((m, i) => ({ map: g.attention[i], meanAbsDiff: m.meanAbsDiff / N, maxAbsDiff: m.maxAbsDiff, cosine: m.cosine / N, sameSide: m.sameSide / N })),
        perImage,
        worst: [...perImage].sort((x, y) => x.maskDice - y.maskDice).slice(0, worstK).map((p) => p.file),
        flips: perImage.filter((p) => p.flip).map((p) => p.file),
      };
      if (o.out) writeOut(o.out, report, worst, a.width, a.height);
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : renderText(report, o));
    });
}

/**
 * A sigmoid input (logit) compared only within +-ln(511): beyond it the int8
 * sigmoid is saturated whatever the logit, and the quantizer clips there on
 * purpose (models/quantizer.ts), so larger float logits are not an error.
 */
function clampLogits(v: Float32Array): Float32Array {
  return v.map((x) => Math.max(-SIGMOID_SATURATION, Math.min(SIGMOID_SATURATION, x)));
}

function writeOut(dir: string, report: CompareReport, worst: Worst[], W: number, H: number): void {
  outputFolder(dir);
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  worst.forEach((w, i) => {
    const pic = { width: W, height: H, data: w.picture };
    const panel = (prob: Uint8Array) => drawContour(overlayHeatmap(pic, { width: W, height: H, data: prob }), prob.map((v) => (v > 128 ? 1 : 0)));
    const diff = Uint8Array.from(w.floatProb, (v, p) => Math.min(255, 4 * Math.abs(v - w.int8Prob[p])));
    // small model grids are enlarged to at least 256 px so the pictures stay readable
    const f = Math.max(1, Math.floor(256 / H));
    const img = sideBySide([greyToRgb(pic), panel(w.floatProb), panel(w.int8Prob), applyColormap({ width: W, height: H, data: diff }, 'inferno')].map((p) => enlarge(p, f)));
    const name = basename(w.file).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_-]+/g, '_');
    writeRgbPng(join(dir, `worst-${i + 1}-${name}.png`), img);
  });
}

function renderText(r: CompareReport, o: Options): string {
  const lines = [`${o.int8} vs ${o.float} on ${r.images} images of ${o.dataset}`, ''];
  const w = Math.max(...r.layers.map((l) => l.name.length));
  lines.push(`${'tensor'.padEnd(w)}  ${'rmse'.padStart(10)}  ${'max abs'.padStart(10)}  ${'cosine'.padStart(8)}`);
  for (const l of r.layers) lines.push(`${l.name.padEnd(w)}  ${l.rmse.toExponential(3).padStart(10)}  ${l.maxAbs.toExponential(3).padStart(10)}  ${l.cosine.toFixed(5).padStart(8)}`);
  lines.push('(logits, the inputs of sigmoids, are compared within +-ln(511), where the int8 sigmoid saturates)', '');
  for (const m of r.attention) lines.push(`attention ${m.map}: mean |diff| ${m.meanAbsDiff.toFixed(4)}, max |diff| ${m.maxAbsDiff.toFixed(4)}, cosine ${m.cosine.toFixed(5)}, same side of 0.5 ${(100 * m.sameSide).toFixed(2)}%`);
  lines.push(`mask Dice float vs int8: mean ${r.maskDice.toFixed(4)}, min ${r.minMaskDice.toFixed(4)}`);
  const w8 = Math.max(...r.perImage.map((p) => basename(p.file).length));
  lines.push('', 'per image: mask Dice float vs int8, lesion-present decision float / int8');
  for (const p of r.perImage) {
    const yn = (b: boolean) => (b ? 'lesion' : 'none  ');
    lines.push(`  ${basename(p.file).padEnd(w8)}  ${p.maskDice.toFixed(4)}  ${yn(p.floatLesion)} / ${yn(p.int8Lesion)}${p.flip ? '  FLIP' : ''}`);
  }
  lines.push(`decision flips (float and int8 disagree on lesion / no lesion): ${r.flips.length} of ${r.images}${r.flips.length ? `: ${r.flips.map((f) => basename(f)).join(', ')}` : ''}`);
  lines.push(`worst layer: ${r.worstLayer} (cosine ${r.minLayerCosine.toFixed(5)})`);
  lines.push(`worst images: ${r.worst.join(', ')}`);
  if (o.out) lines.push(`pictures and report.json in ${o.out}`);
  return `${lines.join('\n')}\n`;
}
