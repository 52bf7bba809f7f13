// `aunet dataset export`: the model inputs and masks of a BUSI-layout folder,
// made by the box's own preprocessing (camera/preprocess.ts), as .npy for
// the Python training. Training reads only these, so it cannot disagree with
// the box on preprocessing. Format: docs/dataset-export.md.
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import { UsageError } from '../../common/errors.js';
import { parseInteger } from '../../common/cli-args.js';
import { listBusi, readBusiImage, readBusiMask, filterSplit } from '../../models/datasets/busi.js';
import { readSplitManifest, SPLITS, type Split, type SplitManifest } from '../../models/datasets/split.js';
import { makeSplitManifest, TWIN_THRESHOLD } from '../evaluation/near-duplicates.js';
import { preprocess, preprocessMask } from '../../camera/preprocess.js';
import { NpyWriter } from '../../models/datasets/npy.js';
import { writeGreyPng } from '../../common/image-io.js';
import type { Preprocessing } from '../../models/float-model.js';

export interface ExportOptions {
  dataset: string;
  size: number;
  channels: 1 | 3;
  preprocessing: Preprocessing;
  out: string;
  progress?: boolean;
  /** also write this many training-split model inputs as PNG under calib/ (quantizer calibration) */
  calib?: number;
  /** the split (default: the shipped manifest of the project's BUSI images) */
  split?: SplitManifest;
  /** its file name, recorded in index.json */
  splitFile?: string;
}

export interface ExportIndex {
  format: 'aunet-dataset-export/2';
  /** the folder's name only: provenance names no path of the machine that exported it */
  dataset: string;
  size: number;
  channels: number;
  preprocessing: Preprocessing;
  /** the split manifest (file name, its twin method and fractions) */
  split: { file: string; method: Record<string, unknown>; fractions: SplitManifest['fractions'] };
  splits: Record<Split, { images: string; masks: string; entries: { name: string; cls: string; width: number; height: number }[] }>;
}

export function exportDataset(o: ExportOptions): ExportIndex {
  const manifest = o.split ?? readSplitManifest();
  const entries = listBusi(o.dataset, manifest, o.splitFile);
  mkdirSync(o.out, { recursive: true });
  const size = { width: o.size, height: o.size, channels: o.channels };
  const bar = o.progress
    ? new cliProgress.SingleBar({ format: 'export {bar} {value}/{total} images | {split}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(entries.length, 0, { split: '' });
  const index: ExportIndex = {
    format: 'aunet-dataset-export/2',
    dataset: basename(o.dataset.replace(/[/\\]+$/, '')),
    size: o.size,
    channels: o.channels,
    preprocessing: o.preprocessing,
    split: { file: basename(o.splitFile ?? 'busi-split.json'), method: manifest.method, fractions: manifest.fractions },
    splits: {} as ExportIndex['splits'],
  };
  let done = 0;
  try {
    for (const split of SPLITS) {
      const list = filterSplit(entries, split);
      if (split === 'train' && list.length === 0) throw new UsageError(`${o.dataset}: no image is in the training split of ${o.splitFile ?? 'the shipped split'}; make a split for this folder with aunet dataset split`);
      const images = new NpyWriter(join(o.out, `${split}_images.npy`), [list.length, o.size, o.size, o.channels]);
      const masks = new NpyWriter(join(o.out, `${split}_masks.npy`), [list.length, o.size, o.size, 1]);
      const meta: ExportIndex['splits'][Split]['entries'] = [];
      const calibEvery = split === 'train' && o.calib ? Math.max(1, Math.floor(list.length / o.calib)) : 0;
      if (calibEvery) mkdirSync(join(o.out, 'calib'), { recursive: true });
      for (const [i, e] of list.entries()) {
        const img = readBusiImage(e);
        const input = preprocess(img, size, o.preprocessing);
        images.write(input.data);
        if (calibEvery && i % calibEvery === 0 && i / calibEvery < o.calib!) {
          // grey model inputs: the quantizer's own preprocessing of a model-size image is the identity
          const grey = o.channels === 1 ? input.data : input.data.filter((_, k) => k % o.channels === 0);
          writeGreyPng(join(o.out, 'calib', e.name.replace(/\.(png|jpe?g)$/i, '.png')), { width: o.size, height: o.size, data: grey });
        }
        masks.write(preprocessMask(readBusiMask(e, img.width, img.height), size, o.preprocessing));
        meta.push({ name: e.name, cls: e.cls, width: img.width, height: img.height });
        bar?.update(++done, { split });
      }
      images.close();
      masks.close();
      index.splits[split] = { images: `${split}_images.npy`, masks: `${split}_masks.npy`, entries: meta };
    }
  } finally {
    bar?.stop();
  }
  writeFileSync(join(o.out, 'index.json'), JSON.stringify(index, null, 1) + '\n');
  return index;
}

export function parsePreprocessing(resize: string, claheSpec: string | boolean | undefined): Preprocessing {
  if (resize !== 'stretch' && resize !== 'letterbox') throw new UsageError(`--resize must be stretch or letterbox, got '${resize}'`);
  const pre: Preprocessing = { resize, normalize: 'unit' };
  if (claheSpec) {
    // --clahe alone = the study's clip 3.0 on 8x8 tiles; --clahe CLIP[:TILES] to choose
    const [clip, tiles] = typeof claheSpec === 'string' ? claheSpec.split(':') : ['3', '8'];
    const c = { clipLimit: Number(clip), tiles: Number(tiles ?? 8) };
    if (!(c.clipLimit > 0) || !Number.isInteger(c.tiles) || c.tiles < 1) throw new UsageError(`--clahe must be CLIP[:TILES], e.g. 3:8, got '${claheSpec}'`);
    pre.clahe = c;
  }
  return pre;
}

export function register(program: Command): void {
  const ds = program.command('dataset').description('export preprocessed model inputs for training');
  ds.command('export')
    .description('write .npy images (uint8 NHWC) and masks (0/1) per split plus index.json')
    .requiredOption('--dataset <dir>', 'BUSI-layout folder (benign/, malignant/, normal/)')
    .requiredOption('--size <n>', 'model input side in pixels (multiple of 16)')
    .option('--channels <n>', '1 (grey) or 3 (grey replicated)', '1')
    .option('--resize <mode>', 'stretch (the study) or letterbox', 'stretch')
    .option('--clahe [clip:tiles]', 'CLAHE before resizing (default 3:8, the study)')
    .option('--calib <n>', 'also write n training-split model inputs as PNG to OUT/calib/ for quantizer calibration', '0')
    .option('--split-file <file>', 'split manifest (aunet dataset split); default: the shipped split of the project\'s BUSI images')
    .requiredOption('--out <dir>', 'output folder')
    .action((opts: { dataset: string; size: string; channels: string; resize: string; clahe?: string | boolean; out: string; calib: string; splitFile?: string }) => {
      const size = parseInteger(opts.size, '--size', { min: 16 });
      if (size % 16 !== 0) throw new UsageError(`--size must be a positive multiple of 16, got '${opts.size}'`);
      const channels = Number(opts.channels);
      if (channels !== 1 && channels !== 3) throw new UsageError(`--channels must be 1 or 3, got '${opts.channels}'`);
      const index = exportDataset({
        dataset: opts.dataset,
        size,
        channels,
        preprocessing: parsePreprocessing(opts.resize, opts.clahe),
        out: opts.out,
        calib: parseInteger(opts.calib, '--calib', { min: 0 }),
        progress: process.stderr.isTTY,
        split: opts.splitFile ? readSplitManifest(opts.splitFile) : undefined,
        splitFile: opts.splitFile,
      });
      const n = (s: Split) => index.splits[s].entries.length;
      process.stdout.write(`wrote ${n('train')} train, ${n('val')} val and ${n('test')} test images (${size}x${size}x${channels}) to ${opts.out}\n`);
    });
  ds.command('split')
    .description('find near-duplicate images and write a leak-free train/val/test split (docs/datasets.md)')
    .requiredOption('--dataset <dir>', 'BUSI-layout folder')
    .option('--threshold <r>', 'correlation of 32x32 fingerprints at or above which two images are twins', String(TWIN_THRESHOLD))
    .requiredOption('--out <file>', 'split manifest to write (JSON)')
    .action((opts: { dataset: string; threshold: string; out: string }) => {
      const threshold = Number(opts.threshold);
      if (!(threshold > 0 && threshold <= 1)) throw new UsageError(`--threshold must be a correlation in (0, 1], got '${opts.threshold}'`);
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'fingerprints {bar} {value}/{total} images', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
      const { manifest, pairs } = makeSplitManifest(opts.dataset, {
        threshold,
        onProgress: (done, total) => (done === 1 ? bar?.start(total, done) : bar?.update(done)),
      });
      bar?.stop();
      writeFileSync(opts.out, JSON.stringify(manifest, null, 1) + '\n');
      const c = manifest.counts;
      const line = (s: string) => `${s} ${Object.entries(c[s] ?? {}).map(([k, v]) => `${v} ${k}`).join(', ')}`;
      process.stdout.write(`${pairs.length} twin pairs in ${manifest.groups.length} groups (correlation >= ${threshold}); ${SPLITS.map(line).join('; ')}${c.excluded ? `; ${line('excluded')}` : ''}\nwrote ${opts.out}\n`);
    });
}
