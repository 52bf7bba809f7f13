// Listing a folder of ultrasound images, the one way every part of the product
// does it (the folder: frame source, the model commands' image lists, the BUSI
// dataset reader). One mask rule, BUSI's: beside "X.png" the files "X_mask.png",
// "X_mask_1.png", ... (any case, .png/.jpg/.jpeg) are its ground-truth masks,
// whose union is the lesion; a mask is never an image. One order, natural:
// numbers compare as numbers, so "benign (2)" precedes "benign (10)";
// sub-folders are visited in that same order where they stand.
import { readdirSync, statSync, type Stats } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { FileError } from './errors.js';
import { readGreyImage, type GreyImage } from './image-io.js';
import { fileKind, statInput } from './input-file.js';

const IMAGE_EXT = /\.(png|jpe?g)$/i;
const MASK_STEM = /^(.*)_mask(?:_(\d+))?$/i;
const collator = new Intl.Collator('en', { numeric: true });

/** Natural order of names: 'benign (2).png' before 'benign (10).png'. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b);
}

export interface ImageEntry {
  /** path of the image (the folder joined with its name) */
  image: string;
  /** its masks, X_mask first, then X_mask_1, X_mask_2, ... */
  masks: string[];
}

/** Whether `name` is an image file by its extension (png, jpg, jpeg, any case). */
export function isImageName(name: string): boolean {
  return IMAGE_EXT.test(name);
}

/**
 * The images of `dir` in natural order, each with its masks; with `recursive`
 * sub-folders are listed where they stand in that order. Throws a FileError
 * (NO_FILE) naming `dir` when it is not a readable folder.
 */
export interface ListOptions {
  recursive?: boolean;
  /**
   * Hears of entries with an image name that are not regular files (a FIFO or a
   * device named 0.png would block a reader forever): they are skipped.
   */
  onSkip?: (path: string, why: string) => void;
}

export function listImageFolder(dir: string, options: ListOptions = {}): ImageEntry[] {
  const st = statInput(dir, 'folder');
  if (!st.isDirectory()) throw new FileError(dir, 'not a folder (expected a folder of PNG/JPEG images)', 'NO_FILE');
  const out: ImageEntry[] = [];
  walk(dir, options, out);
  return out;
}

function walk(dir: string, options: ListOptions, out: ImageEntry[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => naturalCompare(a.name, b.name));
  const images = new Map<string, ImageEntry>();
  const masks: { stem: string; index: number; file: string }[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (options.recursive) walk(full, options, out);
      continue;
    }
    if (!isImageName(e.name)) continue;
    if (!e.isFile()) {
      // a link is followed; anything that is not a regular file in the end is skipped
      let st: Stats | undefined;
      try {
        st = statSync(full);
      } catch {
        /* a dangling link */
      }
      if (!st?.isFile()) {
        options.onSkip?.(full, st ? `${fileKind(st)}, not a regular file` : 'a link to nothing');
        continue;
      }
    }
    const stem = basename(e.name, extname(e.name));
    const m = MASK_STEM.exec(stem);
    if (m) masks.push({ stem: m[1], index: m[2] === undefined ? 0 : Number(m[2]) + 1, file: full });
    else {
      const entry = { image: full, masks: [] };
      images.set(stem, entry);
      out.push(entry);
    }
  }
  masks.sort((a, b) => a.index - b.index);
  for (const { stem, file } of masks) images.get(stem)?.masks.push(file);
}

/**
 * The union of an image's masks at the image's size: 255 = lesion, 0 =
 * background. A mask of another size is refused naming the mask file (and
 * the image, when `image` names it).
 */
export function readMaskUnion(masks: readonly string[], width: number, height: number, image?: string): GreyImage {
  const data = new Uint8Array(width * height);
  for (const file of masks) {
    const m = readGreyImage(file);
    if (m.width !== width || m.height !== height) {
      throw new FileError(file, `mask is ${m.width}x${m.height} but its image${image ? ` ${basename(image)}` : ''} is ${width}x${height}`, 'BAD_MASK');
    }
    for (let i = 0; i < data.length; i++) if (m.data[i] !== 0) data[i] = 255;
  }
  return { width, height, data };
}
