// The BUSI dataset layout (Kaggle "Dataset_BUSI_with_GT"): benign/, malignant/,
// normal/; image 'benign (1).png', masks 'benign (1)_mask.png',
// 'benign (1)_mask_1.png', ... whose union is the ground truth. Images may be
// 8-bit grey or RGB (the original release); masks 1-bit grey, RGB or RGBA.
// Also the ONE fixed validation split used by export, training and eval.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { readGreyImage, type GreyImage } from '../../common/image-io.js';
import { listImageFolder, readMaskUnion } from '../../common/image-folder.js';
import { FileError } from '../../common/errors.js';

export const BUSI_CLASSES = ['benign', 'malignant', 'normal'] as const;
export type BusiClass = (typeof BUSI_CLASSES)[number];
export type Split = 'train' | 'val';

/** Fraction of each class held out for validation. */
export const VAL_FRACTION = 0.2;

export interface BusiEntry {
  /** image file name, e.g. 'benign (1).png' (the split key) */
  name: string;
  cls: BusiClass;
  image: string;
  masks: string[];
  split: Split;
}

/** All images of a BUSI-layout folder, in natural name order per class, each with its split. */
export function listBusi(dir: string): BusiEntry[] {
  let top: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    top = readdirSync(dir);
  } catch (e) {
    throw new FileError(dir, `not a readable BUSI dataset folder: ${(e as Error).message}`, 'NO_FILE');
  }
  const present = BUSI_CLASSES.filter((c) => top.includes(c));
  if (present.length === 0) {
    throw new FileError(dir, `no BUSI class folder found (expected ${BUSI_CLASSES.join('/, ')}/)`, 'BAD_DATASET');
  }
  const out: BusiEntry[] = [];
  for (const cls of present) {
    const entries = listImageFolder(join(dir, cls));
    const val = validationNames(entries.map((e) => basename(e.image)));
    for (const { image, masks } of entries) {
      const name = basename(image);
      if (masks.length === 0) throw new FileError(image, `no ground-truth mask '${basename(name, extname(name))}_mask.png' beside the image`, 'BAD_DATASET');
      out.push({ name, cls, image, masks, split: val.has(name) ? 'val' : 'train' });
    }
  }
  return out;
}

/**
 * The fixed validation split: within one class, the ceil(20%) names with the
 * smallest SHA-256 of the file name. Depends only on the names, so adding the
 * held-back BUSI images later moves few existing ones.
 */
export function validationNames(names: string[]): Set<string> {
  const ranked = names.map((n) => ({ n, h: createHash('sha256').update(n, 'utf8').digest('hex') }));
  ranked.sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
  return new Set(ranked.slice(0, Math.round(names.length * VAL_FRACTION)).map((r) => r.n));
}

export function filterSplit(entries: BusiEntry[], split: Split | 'all'): BusiEntry[] {
  return split === 'all' ? entries : entries.filter((e) => e.split === split);
}

export function readBusiImage(e: BusiEntry): GreyImage {
  return readGreyImage(e.image);
}

/** Union of all masks of an entry: 255 = lesion, 0 = background; sizes must match the image's. */
export function readBusiMask(e: BusiEntry, width: number, height: number): GreyImage {
  return readMaskUnion(e.masks, width, height);
}
