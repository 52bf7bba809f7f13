// `aunet dataset export`: the model inputs and masks of a BUSI-layout folder,
// made by the box's own preprocessing (camera/preprocess.ts), as .npy for
// the Python training. Training reads only these, so it cannot disagree with
// the box on preprocessing. Format: docs/dataset-export.md.
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { UsageError } from '../../common/errors.js';
import { parseInteger } from '../../common/cli-args.js';
import { listBusi, readBusiImage, readBusiMask, filterSplit, VAL_FRACTION, type Split } from '../../models/datasets/busi.js';
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
}

export interface ExportIndex {
  format: 'aunet-dataset-export/1';
  dataset: string;
  size: number;
  channels: number;
  preprocessing: Preprocessing;
  valFraction: number;
  splits: Record<Split, { images: string; masks: string; entries: { name: string; cls: string; width: number; height: number }[] }>;
}

export function exportDataset(o: ExportOptions): ExportIndex {
  const entries = listBusi(o.dataset);
  mkdirSync(o.out, { recursive: true });
  const size = { width: o.size, height: o.size, channels: o.channels };
  const bar = o.progress
    ? new cliProgress.SingleBar({ format: 'export {bar} {value}/{total} images | {split}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(entries.length, 0, { split: '' });
  const index: ExportIndex = {
    format: 'aunet-dataset-export/1',
    dataset: resolve(o.dataset),
    size: o.size,
    channels: o.channels,
    preprocessing: o.preprocessing,
    valFraction: VAL_FRACTION,
    splits: {} as ExportIndex['splits'],
  };
  let done = 0;
  try {
    for (const split of ['train', 'val'] as const) {
      const list = filterSplit(entries, split);
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
    .requiredOption('--out <dir>', 'output folder')
    .action((opts: { dataset: string; size: string; channels: string; resize: string; clahe?: string | boolean; out: string; calib: string }) => {
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
      });
      const n = (s: Split) => index.splits[s].entries.length;
      process.stdout.write(`wrote ${n('train')} train and ${n('val')} val images (${size}x${size}x${channels}) to ${opts.out}\n`);
    });
}
