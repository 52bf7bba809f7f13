// Near-duplicate images: BUSI holds the same picture under different names
// (even across classes), so a split by name leaks. The method (docs/datasets.md):
// each image is area-resized to 32x32 grey, its mean removed and scaled to unit
// length (a "low-resolution correlation" fingerprint, blind to gain and offset);
// two images are twins when the Pearson correlation of their fingerprints is at
// least the threshold. Twins are grouped transitively (union-find), so a split
// that keeps each group on one side has no twin across it.
import type { GreyImage } from '../../common/image-io.js';
import { resizeArea } from '../../camera/preprocess.js';
import { listBusi, readBusiImage, type BusiEntry } from '../../models/datasets/busi.js';
import { assignSplits, fileSha256, type SplitManifest } from '../../models/datasets/split.js';

/** Side of the fingerprint grid. */
export const FINGERPRINT_SIDE = 32;
/** Correlation at or above which two images are twins (docs/datasets.md: why 0.92). */
export const TWIN_THRESHOLD = 0.92;

/** Zero-mean, unit-length 32x32 area-averaged grey image (all-zero for a flat image). */
export function fingerprint(img: GreyImage): Float32Array {
  const small = resizeArea(img, FINGERPRINT_SIDE, FINGERPRINT_SIDE).data;
  const v = new Float32Array(small.length);
  let mean = 0;
  for (const x of small) mean += x;
  mean /= small.length;
  let norm = 0;
  for (let i = 0; i < small.length; i++) {
    v[i] = small[i] - mean;
    norm += v[i] * v[i];
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

/** Pearson correlation of two fingerprints (their dot product). */
export function correlation(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export interface TwinPair {
  a: number;
  b: number;
  correlation: number;
}

/** Every pair (a < b) of `prints` whose correlation is >= threshold. */
export function twinPairs(prints: Float32Array[], threshold = TWIN_THRESHOLD): TwinPair[] {
  const out: TwinPair[] = [];
  for (let a = 0; a < prints.length; a++) {
    for (let b = a + 1; b < prints.length; b++) {
      const c = correlation(prints[a], prints[b]);
      if (c >= threshold) out.push({ a, b, correlation: c });
    }
  }
  return out;
}

/** For each of `queries`, the best correlation with any of `refs` and its index (-1 when refs is empty). */
export function nearestTwin(queries: Float32Array[], refs: Float32Array[]): { index: number; correlation: number }[] {
  return queries.map((q) => {
    let best = { index: -1, correlation: -Infinity };
    refs.forEach((r, i) => {
      const c = correlation(q, r);
      if (c > best.correlation) best = { index: i, correlation: c };
    });
    return best;
  });
}

/** Connected components of the twin graph: group id per item (the smallest member index). */
export function twinGroups(n: number, pairs: TwinPair[]): number[] {
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (const { a, b } of pairs) {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  return parent.map((_, i) => find(i));
}

/** Fingerprints of BUSI entries (decodes each image once). */
export function fingerprintEntries(entries: BusiEntry[], onProgress?: (done: number, total: number) => void): Float32Array[] {
  return entries.map((e, i) => {
    const f = fingerprint(readBusiImage(e));
    onProgress?.(i + 1, entries.length);
    return f;
  });
}

/** The leak-free split manifest of a BUSI-layout folder: twins found at `threshold`, grouped, placed whole. */
export function makeSplitManifest(dir: string, o: { threshold?: number; onProgress?: (done: number, total: number) => void } = {}): { manifest: SplitManifest; pairs: TwinPair[]; entries: BusiEntry[] } {
  const threshold = o.threshold ?? TWIN_THRESHOLD;
  const entries = listBusi(dir);
  const prints = fingerprintEntries(entries, o.onProgress);
  const pairs = twinPairs(prints, threshold);
  const group = twinGroups(entries.length, pairs);
  const manifest = assignSplits(
    entries.map((e, i) => ({ name: e.name, cls: e.cls, sha256: fileSha256(e.image), group: group[i] })),
    { fingerprint: `${FINGERPRINT_SIDE}x${FINGERPRINT_SIDE} area-resized grey, mean removed, unit length`, twin: `Pearson correlation >= ${threshold}`, grouping: 'connected components of the twin pairs', placement: 'per class, whole groups in order of SHA-256 of the first member name: test, then val, the rest train; groups with two classes excluded' },
  );
  return { manifest, pairs, entries };
}
