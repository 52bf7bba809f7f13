// The BUSI dataset layout (Kaggle "Dataset_BUSI_with_GT"): benign/, malignant/,
// normal/; image 'benign (1).png', masks 'benign (1)_mask.png',
// 'benign (1)_mask_1.png', ... whose union is the ground truth. Images may be
// 8-bit grey or RGB (the original release); masks 1-bit grey, RGB or RGBA.
// Each entry's split comes from a split manifest (models/datasets/split.ts).
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { readGreyImage, type GreyImage } from '../../common/image-io.js';
import { listImageFolder, readMaskUnion } from '../../common/image-folder.js';
import { FileError } from '../../common/errors.js';
import { fileSha256, type Split, type SplitManifest } from './split.js';

export type { Split } from './split.js';
export const BUSI_CLASSES = ['benign', 'malignant', 'normal'] as const;
export type BusiClass = (typeof BUSI_CLASSES)[number];

export interface BusiEntry {
  /** image file name, e.g. 'benign (1).png' (the split key) */
  name: string;
  cls: BusiClass;
  image: string;
  masks: string[];
  /** from the split manifest: 'excluded' = twins with contradicting labels, 'unlisted' = not in the manifest (or none given) */
  split: Split | 'excluded' | 'unlisted';
}

/**
 * All images of a BUSI-layout folder, in natural name order per class, each
 * with its split in `manifest`. An image the manifest lists must be the very
 * file it was made from (SHA-256), else the split would be silently wrong.
 */
export function listBusi(dir: string, manifest?: SplitManifest, manifestFile = 'the split file'): BusiEntry[] {
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
    for (const { image, masks } of entries) {
      const name = basename(image);
      if (masks.length === 0) throw new FileError(image, `no ground-truth mask '${basename(name, extname(name))}_mask.png' beside the image`, 'BAD_DATASET');
      out.push({ name, cls, image, masks, split: splitOf(manifest, manifestFile, cls, image, name) });
    }
  }
  return out;
}

function splitOf(manifest: SplitManifest | undefined, manifestFile: string, cls: string, file: string, name: string): BusiEntry['split'] {
  const m = manifest?.images[name];
  if (!m) return 'unlisted';
  if (m.cls !== cls || m.sha256 !== fileSha256(file)) {
    throw new FileError(file, `is not the image ${manifestFile} lists under this name (class ${m.cls}, sha256 ${m.sha256.slice(0, 12)}...): that split belongs to another folder; make one for this folder with aunet dataset split, or evaluate --split all`, 'BAD_DATASET');
  }
  return m.split;
}

/** 'all' = every image of the folder, whatever the manifest says. */
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
