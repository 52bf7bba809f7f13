// From the probability map to what an operator reads: the mask at the current
// threshold (models/lesion-mask.ts: the one implementation of the mask and its
// regions, which the post-processing study scores too), the lesion outlines,
// the lesion area and the mean confidence. Outlines: the mask's 8-connected
// regions, then the outer boundary of each traced with Moore-neighbour tracing
// and Jacob's stopping criterion (back at the start pixel, about to repeat the
// first step).
import { MAX_CONTOUR_POINTS, MAX_POLYGONS, type Polygon } from '../../contracts/frame-message.js';
import { bySize, labelRegions, lesionMask } from '../../models/lesion-mask.js';

export interface Lesions {
  /** W*H, 0 or 1 */
  mask: Uint8Array;
  /** fraction of pixels in the mask */
  area: number;
  /** pixels in the mask */
  pixels: number;
  /** mean probability (0..1) over mask pixels, 0 when empty */
  meanConfidence: number;
  /** outer outlines, largest region first (flat x,y pairs) */
  contours: Polygon[];
}

export interface PostprocessOptions {
  /** mask = prob > threshold (0..255); 128 is probability 0.5 */
  threshold: number;
  /** regions smaller than this many pixels get no outline */
  minRegionPixels?: number;
  maxPolygons?: number;
  maxPoints?: number;
}

export function postprocess(prob: Uint8Array, width: number, height: number, o: PostprocessOptions): Lesions {
  const { mask, pixels, sum } = lesionMask(prob, width, height, o.threshold);
  const n = width * height;
  const contours = pixels ? traceContours(mask, width, height, o.minRegionPixels ?? 4, o.maxPolygons ?? MAX_POLYGONS, o.maxPoints ?? MAX_CONTOUR_POINTS) : [];
  return { mask, area: pixels / n, pixels, meanConfidence: pixels ? sum / pixels / 256 : 0, contours };
}

// clockwise in image coordinates (y down): E, SE, S, SW, W, NW, N, NE
const DX = [1, 1, 0, -1, -1, -1, 0, 1];
const DY = [0, 1, 1, 1, 0, -1, -1, -1];

/** Outer outlines of the 8-connected regions of a 0/1 mask. */
export function traceContours(mask: Uint8Array, W: number, H: number, minPixels = 4, maxPolygons = MAX_POLYGONS, maxPoints = MAX_CONTOUR_POINTS): Polygon[] {
  const { labels, regions } = labelRegions(mask, W, H);
  const big = regions.filter((r) => r.pixels >= minPixels).sort(bySize).slice(0, maxPolygons);
  const outlines = big.map((r) => traceOne(labels, r.label, r.start, W, H, 4 * r.pixels + 8));
  return budget(outlines, maxPoints);
}

function traceOne(labels: Int32Array, label: number, start: number, W: number, H: number, maxSteps: number): number[] {
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < W && y < H && labels[y * W + x] === label;
  const sx = start % W;
  const sy = (start - sx) / W;
  const pts = [sx, sy];
  // the start is the region's first pixel in raster order, so its west neighbour is
  // outside: begin the clockwise search just after west
  let x = sx;
  let y = sy;
  let back = 4;
  let first: [number, number] | null = null;
  for (let step = 0; step < maxSteps; step++) {
    let found = -1;
    for (let i = 1; i <= 8; i++) {
      const d = (back + i) & 7;
      if (inside(x + DX[d], y + DY[d])) {
        found = d;
        break;
      }
    }
    if (found < 0) break; // a single pixel
    const nx = x + DX[found];
    const ny = y + DY[found];
    if (x === sx && y === sy) {
      if (first === null) first = [nx, ny];
      else if (first[0] === nx && first[1] === ny) break; // Jacob's criterion
    }
    // the neighbour examined just before `found` was outside; it is the new backtrack,
    // seen from the new pixel
    const bx = x + DX[(found + 7) & 7] - nx;
    const by = y + DY[(found + 7) & 7] - ny;
    back = dirOf(bx, by);
    x = nx;
    y = ny;
    if (!(x === sx && y === sy)) pts.push(x, y);
  }
  return pts;
}

function dirOf(dx: number, dy: number): number {
  for (let d = 0; d < 8; d++) if (DX[d] === dx && DY[d] === dy) return d;
  throw new Error(`contour tracing: (${dx}, ${dy}) is not a neighbour offset`);
}

/** Evenly subsample outlines so that all of them together have at most maxPoints points. */
function budget(outlines: number[][], maxPoints: number): Polygon[] {
  const total = outlines.reduce((s, p) => s + p.length / 2, 0);
  const kept = outlines.map((p) => {
    const n = p.length / 2;
    if (total <= maxPoints) return Uint16Array.from(p);
    const keep = Math.max(Math.min(n, 3), Math.floor((maxPoints * n) / total) - 1);
    const out = new Uint16Array(keep * 2);
    for (let i = 0; i < keep; i++) {
      const j = Math.floor((i * n) / keep);
      out[2 * i] = p[2 * j];
      out[2 * i + 1] = p[2 * j + 1];
    }
    return out;
  });
  // the rounding above can still overshoot: drop the smallest outlines (they come last) until the total fits
  let points = 0;
  return kept.filter((q) => (points += q.length / 2) <= maxPoints);
}
