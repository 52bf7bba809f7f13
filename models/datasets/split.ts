// The leak-free split of a BUSI-layout folder, kept as a file (docs/datasets.md):
// BUSI holds the same picture under different names, so a split by name puts
// twins on both sides. `aunet dataset split` finds near-duplicates, keeps every
// twin group on one side, drops groups whose class labels disagree, and writes
// this manifest; export, training and eval read it, so they always agree, and a
// reviewer can read which image is where. Each image's SHA-256 is recorded so a
// different folder under the same names is refused, never silently split.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FileError } from '../../common/errors.js';
import { packageFile } from '../../common/package-root.js';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];
/** Fractions of each class (in images, whole twin groups at a time) for val (every choice: epochs, thresholds) and test (no choice at all). */
export const SPLIT_FRACTIONS = { val: 0.15, test: 0.2 } as const;
export const SPLIT_FORMAT = 'aunet-busi-split/1';
/** The split of the project's 624 BUSI images (`../shared/data/busi`), shipped with the package. */
export const SHIPPED_SPLIT = 'models/datasets/busi-split.json';

export interface SplitImage {
  cls: string;
  /** train/val/test, or excluded (see reason) */
  split: Split | 'excluded';
  sha256: string;
  /** index into groups when the image has twins */
  group?: number;
  reason?: string;
}

export interface SplitManifest {
  format: typeof SPLIT_FORMAT;
  /** how twins were found (fingerprint, threshold) and how groups were placed */
  method: Record<string, unknown>;
  fractions: { val: number; test: number };
  counts: Record<string, Record<string, number>>;
  /** twin groups, member names in natural order */
  groups: string[][];
  /** image file name -> its place */
  images: Record<string, SplitImage>;
}

export interface GroupedImage {
  name: string;
  cls: string;
  sha256: string;
  /** group id shared by twins (any value; equal = same group) */
  group: number;
}

/**
 * Places whole groups per class: groups in order of the SHA-256 of their first
 * member's name (stable when images are added), test filled to round(test * n)
 * images, then val, the rest train. Groups whose members have different classes
 * are excluded (their labels contradict each other).
 */
export function assignSplits(images: GroupedImage[], method: Record<string, unknown>, fractions = SPLIT_FRACTIONS): SplitManifest {
  const byGroup = new Map<number, GroupedImage[]>();
  for (const im of images) byGroup.set(im.group, [...(byGroup.get(im.group) ?? []), im]);
  const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  const groups = [...byGroup.values()].map((g) => g.sort((a, b) => natural(a.name, b.name)));
  const out: Record<string, SplitImage> = {};
  const twinGroups = groups.filter((g) => g.length > 1).sort((a, b) => natural(a[0].name, b[0].name));
  const groupIndex = new Map(twinGroups.map((g, i) => [g[0].name, i]));
  const place = (g: GroupedImage[], split: SplitImage['split'], reason?: string) => {
    for (const im of g) out[im.name] = { cls: im.cls, split, sha256: im.sha256, ...(g.length > 1 ? { group: groupIndex.get(g[0].name)! } : {}), ...(reason ? { reason } : {}) };
  };
  const hash = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
  const classes = [...new Set(images.map((i) => i.cls))].sort();
  for (const g of groups) {
    const cls = new Set(g.map((i) => i.cls));
    if (cls.size > 1) place(g, 'excluded', `twins labelled ${[...cls].sort().join(' and ')}`);
  }
  for (const cls of classes) {
    const mine = groups.filter((g) => g.every((i) => i.cls === cls)).sort((a, b) => (hash(a[0].name) < hash(b[0].name) ? -1 : 1));
    const n = mine.reduce((s, g) => s + g.length, 0);
    const want = { test: Math.round(n * fractions.test), val: Math.round(n * fractions.val) };
    const have = { test: 0, val: 0 };
    for (const g of mine) {
      const split = have.test < want.test ? 'test' : have.val < want.val ? 'val' : 'train';
      if (split !== 'train') have[split] += g.length;
      place(g, split);
    }
  }
  const counts: SplitManifest['counts'] = {};
  for (const im of Object.values(out)) {
    counts[im.split] ??= {};
    counts[im.split][im.cls] = (counts[im.split][im.cls] ?? 0) + 1;
  }
  const sorted = Object.fromEntries(Object.keys(out).sort(natural).map((k) => [k, out[k]]));
  return { format: SPLIT_FORMAT, method, fractions: { ...fractions }, counts, groups: twinGroups.map((g) => g.map((i) => i.name)), images: sorted };
}

/** Reads and checks a split manifest; the shipped one when no file is given. */
export function readSplitManifest(file = packageFile(SHIPPED_SPLIT)): SplitManifest {
  let m: SplitManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as SplitManifest;
  } catch (e) {
    throw new FileError(file, `cannot read the split file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'NO_FILE');
  }
  if (m?.format !== SPLIT_FORMAT || typeof m.images !== 'object' || m.images === null) {
    throw new FileError(file, `not a split file (format '${String(m?.format)}', expected '${SPLIT_FORMAT}'; made by aunet dataset split)`, 'BAD_FILE');
  }
  for (const [name, im] of Object.entries(m.images)) {
    if (![...SPLITS, 'excluded'].includes(im.split) || typeof im.sha256 !== 'string') throw new FileError(file, `image '${name}': split '${String(im.split)}' or sha256 missing or invalid`, 'BAD_FILE');
  }
  return m;
}

/** SHA-256 of a file's bytes (the manifest's identity check of an image). */
export function fileSha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
