// The lesion mask drawn from the network's 8-bit probability map: mask = prob >
// threshold, then optional shaping of its 8-connected regions (drop small ones,
// keep those near the largest, fill holes, require the largest to carry some
// probability mass). The box's postprocess (host/pipeline) draws its mask with it and the
// post-processing study (host/evaluation) scores its variants with it; eval scores the
// engine's own mask (prob > 128), the pixels lesionMask gives at 128 without shaping.
// Region labelling: one raster pass with union-find.

/** How the thresholded mask is shaped; every field off = the plain threshold. */
export interface MaskShaping {
  /** keep regions with >= this share of the largest region's pixels (1: the largest only; 0 or absent: all) */
  keepFraction?: number;
  /** set background pixels enclosed by the mask (not 4-connected to the frame's border) */
  fillHoles?: boolean;
  /** drop regions under this share of the frame's pixels (rounded up to whole pixels) */
  minRegionFraction?: number;
  /** show nothing when the largest kept region's probability mass (sum of its probabilities) is under this */
  minMass?: number;
}

export interface Region {
  label: number;
  pixels: number;
  /** first pixel in raster order: top row, leftmost */
  start: number;
}

export interface LesionMask {
  /** W*H, 0 or 1 */
  mask: Uint8Array;
  /** pixels in the mask */
  pixels: number;
  /** sum of prob (0..255) over mask pixels */
  sum: number;
}

// The labels are scratch: one buffer serves every call, so that the box's per-frame outlines allocate no
// 64 KiB array (a fresh one per frame counts toward the main thread's next full GC; camera/preprocess.ts
// says why that matters). A caller uses them before its next labelRegions call, or copies them.
let labelsScratch = new Int32Array(0);

/** 8-connected regions of a 0/1 mask; labels[i] is its region's label (0 = background), valid until the next call. */
export function labelRegions(mask: Uint8Array, W: number, H: number): { labels: Int32Array; regions: Region[] } {
  if (labelsScratch.length < W * H) labelsScratch = new Int32Array(W * H);
  const labels = labelsScratch.subarray(0, W * H).fill(0);
  const parent: number[] = [0];
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const union = (a: number, b: number): number => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return ra;
    const [lo, hi] = ra < rb ? [ra, rb] : [rb, ra];
    parent[hi] = lo;
    return lo;
  };
  // a pixel's label so far (0: none yet) joined with a labelled neighbour's
  const join = (l: number, k: number): number => (l ? union(l, k) : find(k));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      if (!mask[i]) continue;
      let l = 0;
      // already-visited 8-neighbours: W, NW, N, NE
      if (x > 0 && labels[i - 1]) l = join(l, labels[i - 1]);
      if (y > 0) {
        if (x > 0 && labels[i - W - 1]) l = join(l, labels[i - W - 1]);
        if (labels[i - W]) l = join(l, labels[i - W]);
        if (x < W - 1 && labels[i - W + 1]) l = join(l, labels[i - W + 1]);
      }
      if (!l) {
        l = parent.length;
        parent.push(l);
      }
      labels[i] = l;
    }
  }
  const byRoot = new Map<number, Region>();
  for (let i = 0; i < labels.length; i++) {
    if (!labels[i]) continue;
    const r = find(labels[i]);
    labels[i] = r;
    const reg = byRoot.get(r);
    if (reg) reg.pixels++;
    else byRoot.set(r, { label: r, pixels: 1, start: i });
  }
  return { labels, regions: [...byRoot.values()] };
}

/** Largest first; equal sizes in raster order of their first pixel (the outline order too). */
export const bySize = (a: Region, b: Region): number => b.pixels - a.pixels || a.start - b.start;

function isShaping(s: MaskShaping | undefined): s is MaskShaping {
  return !!s && ((s.keepFraction ?? 0) > 0 || !!s.fillHoles || (s.minRegionFraction ?? 0) > 0 || (s.minMass ?? 0) > 0);
}

export function lesionMask(prob: Uint8Array, W: number, H: number, threshold: number, s?: MaskShaping): LesionMask {
  const n = W * H;
  if (prob.length !== n) throw new RangeError(`lesion mask: probability map has ${prob.length} values, expected ${W}x${H}`);
  const mask = new Uint8Array(n);
  let pixels = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (prob[i] > threshold) {
      mask[i] = 1;
      pixels++;
      sum += prob[i];
    }
  }
  if (!pixels || !isShaping(s)) return { mask, pixels, sum };

  const { labels, regions } = labelRegions(mask, W, H);
  const minPixels = Math.ceil((s.minRegionFraction ?? 0) * n);
  const big = regions.filter((r) => r.pixels >= minPixels).sort(bySize);
  const kept = big.length ? big.filter((r) => r.pixels >= (s.keepFraction ?? 0) * big[0].pixels) : [];
  const keep = new Uint8Array(n + 1); // labels are union-find roots, at most n
  for (const r of kept) keep[r.label] = 1;
  let mass = 0;
  for (let i = 0; i < n; i++) {
    mask[i] = keep[labels[i]];
    if (kept.length && labels[i] === kept[0].label) mass += prob[i];
  }
  if (!kept.length || mass / 256 < (s.minMass ?? 0)) return { mask: new Uint8Array(n), pixels: 0, sum: 0 };
  if (s.fillHoles) fillHoles(mask, W, H);
  pixels = 0;
  sum = 0;
  for (let i = 0; i < n; i++) {
    if (mask[i]) {
      pixels++;
      sum += prob[i];
    }
  }
  return { mask, pixels, sum };
}

/**
 * Background not reachable from the border through 4-connected background becomes mask (4-connected
 * background is the complement that matches 8-connected regions: a diagonal gap does not open a hole).
 */
export function fillHoles(mask: Uint8Array, W: number, H: number): void {
  const n = W * H;
  const outside = new Uint8Array(n);
  const stack = new Int32Array(n);
  let top = 0;
  const seed = (i: number) => {
    if (!mask[i] && !outside[i]) (outside[i] = 1), (stack[top++] = i);
  };
  for (let x = 0; x < W; x++) seed(x), seed((H - 1) * W + x);
  for (let y = 0; y < H; y++) seed(y * W), seed(y * W + W - 1);
  while (top > 0) {
    const i = stack[--top];
    const x = i % W;
    if (x > 0) seed(i - 1);
    if (x < W - 1) seed(i + 1);
    if (i >= W) seed(i - W);
    if (i < n - W) seed(i + W);
  }
  for (let i = 0; i < n; i++) if (!mask[i] && !outside[i]) mask[i] = 1;
}
