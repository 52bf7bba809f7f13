// Contrast-limited adaptive histogram equalisation (CLAHE) on an 8-bit grey
// image, as the study applied it (clip 3.0, 8x8 tiles) before training.
// Hand-written: no maintained Node library implements CLAHE (OpenCV's is only
// reachable through a multi-megabyte WASM build), and the box must run the
// exact same arithmetic as training. Follows OpenCV's algorithm: per-tile
// histogram clipped at clipLimit * tileArea / 256, excess redistributed
// evenly, per-tile lookup tables blended bilinearly between tile centres.
import type { GreyImage } from '../common/image-io.js';

export function clahe(img: GreyImage, clipLimit: number, tiles: number): GreyImage {
  if (!(clipLimit > 0)) throw new RangeError(`CLAHE clip limit must be > 0, got ${clipLimit}`);
  if (!Number.isInteger(tiles) || tiles < 1) throw new RangeError(`CLAHE tile grid must be an integer >= 1, got ${tiles}`);
  const { width: W, height: H, data } = img;
  const tx = Math.min(tiles, W);
  const ty = Math.min(tiles, H);
  const xb = bounds(W, tx);
  const yb = bounds(H, ty);
  const luts: Uint8Array[] = [];
  for (let j = 0; j < ty; j++) for (let i = 0; i < tx; i++) luts.push(tileLut(data, W, xb[i], xb[i + 1], yb[j], yb[j + 1], clipLimit));

  // tile centres (doubled, to stay in integers) and bilinear blending between them
  const xc = Array.from({ length: tx }, (_, i) => xb[i] + xb[i + 1] - 1);
  const yc = Array.from({ length: ty }, (_, j) => yb[j] + yb[j + 1] - 1);
  const xi = blend(W, xc);
  const yi = blend(H, yc);
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    const { lo: j0, hi: j1, f: fy } = yi[y];
    for (let x = 0; x < W; x++) {
      const { lo: i0, hi: i1, f: fx } = xi[x];
      const v = data[y * W + x];
      const top = luts[j0 * tx + i0][v] * (1 - fx) + luts[j0 * tx + i1][v] * fx;
      const bot = luts[j1 * tx + i0][v] * (1 - fx) + luts[j1 * tx + i1][v] * fx;
      out[y * W + x] = Math.min(255, Math.round(top * (1 - fy) + bot * fy));
    }
  }
  return { width: W, height: H, data: out };
}

function bounds(n: number, t: number): number[] {
  return Array.from({ length: t + 1 }, (_, k) => Math.floor((k * n) / t));
}

function tileLut(data: Uint8Array, W: number, x0: number, x1: number, y0: number, y1: number, clipLimit: number): Uint8Array {
  const hist = new Int32Array(256);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) hist[data[y * W + x]]++;
  const area = (x1 - x0) * (y1 - y0);
  const limit = Math.max(1, Math.floor((clipLimit * area) / 256));
  let excess = 0;
  for (let k = 0; k < 256; k++) {
    if (hist[k] > limit) {
      excess += hist[k] - limit;
      hist[k] = limit;
    }
  }
  const each = Math.floor(excess / 256);
  for (let k = 0; k < 256; k++) hist[k] += each;
  let residual = excess - each * 256;
  if (residual > 0) {
    const step = Math.max(1, Math.floor(256 / residual));
    for (let k = 0; k < 256 && residual > 0; k += step, residual--) hist[k]++;
  }
  const lut = new Uint8Array(256);
  let cdf = 0;
  for (let k = 0; k < 256; k++) {
    cdf += hist[k];
    lut[k] = Math.min(255, Math.round((cdf * 255) / area));
  }
  return lut;
}

/** For each pixel, the two tile centres around it and the weight of the second (doubled coordinates). */
function blend(n: number, centres2: number[]): { lo: number; hi: number; f: number }[] {
  const out: { lo: number; hi: number; f: number }[] = [];
  const last = centres2.length - 1;
  for (let p = 0; p < n; p++) {
    const p2 = 2 * p;
    if (p2 <= centres2[0]) out.push({ lo: 0, hi: 0, f: 0 });
    else if (p2 >= centres2[last]) out.push({ lo: last, hi: last, f: 0 });
    else {
      let k = 0;
      while (centres2[k + 1] < p2) k++;
      out.push({ lo: k, hi: k + 1, f: (p2 - centres2[k]) / (centres2[k + 1] - centres2[k]) });
    }
  }
  return out;
}
