// THE preprocessing from a grey frame to the model's 8-bit input. Training
// export, the box, eval, infer and replay all call this one function, so the
// model never sees pixels prepared differently from those it was trained on.
// Steps: optional CLAHE on the full-size grey image -> resize (stretch or
// letterbox) by exact area averaging in integer arithmetic -> HxWxC bytes
// (grey replicated for C = 3). Normalisation (pixel / 255) is part of the
// model's input quantization (int8 = pixel - 128), not of these bytes.
import type { GreyImage } from '../common/image-io.js';
import type { Preprocessing } from '../models/float-model.js';
import { clahe } from './clahe.js';

export interface ModelSize {
  height: number;
  width: number;
  /** 1 (grey) or 3 (grey replicated) */
  channels: number;
}

/** Where the original image lies inside the model input (letterbox pads around it). */
export interface Placement {
  /** original image size */
  srcWidth: number;
  srcHeight: number;
  /** content rectangle inside the model input */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ModelInput {
  height: number;
  width: number;
  channels: number;
  /** row-major HxWxC, 8-bit */
  data: Uint8Array;
  placement: Placement;
}

export function preprocess(img: GreyImage, size: ModelSize, pre: Preprocessing): ModelInput {
  checkSize(size);
  if (img.width < 1 || img.height < 1 || img.data.length !== img.width * img.height) {
    throw new RangeError(`preprocess: image data (${img.data.length} bytes) does not match ${img.width}x${img.height}`);
  }
  const grey = pre.clahe ? clahe(img, pre.clahe.clipLimit, pre.clahe.tiles) : img;
  const placement = place(img.width, img.height, size, pre.resize);
  const content = resizeArea(grey, placement.width, placement.height);
  const { channels } = size;
  const data = new Uint8Array(size.height * size.width * channels); // letterbox pads with black
  for (let y = 0; y < placement.height; y++) {
    for (let x = 0; x < placement.width; x++) {
      const v = content.data[y * placement.width + x];
      const o = ((y + placement.y) * size.width + x + placement.x) * channels;
      for (let c = 0; c < channels; c++) data[o + c] = v;
    }
  }
  return { height: size.height, width: size.width, channels, data, placement };
}

/** Ground-truth mask (non-zero = lesion) to the model grid: area average, lesion where >= half covered. Values 0/1. */
export function preprocessMask(mask: GreyImage, size: ModelSize, pre: Preprocessing): Uint8Array {
  checkSize(size);
  const binary = { width: mask.width, height: mask.height, data: mask.data.map((v) => (v ? 255 : 0)) };
  const placement = place(mask.width, mask.height, size, pre.resize);
  const content = resizeArea(binary, placement.width, placement.height);
  const out = new Uint8Array(size.height * size.width);
  for (let y = 0; y < placement.height; y++) {
    for (let x = 0; x < placement.width; x++) {
      out[(y + placement.y) * size.width + x + placement.x] = content.data[y * placement.width + x] >= 128 ? 1 : 0;
    }
  }
  return out;
}

/**
 * A model-grid map (one byte per pixel, e.g. the predicted mask) back to the
 * original image size, nearest neighbour over the content rectangle (letterbox
 * padding is dropped).
 */
export function resizeBack(map: Uint8Array, modelWidth: number, modelHeight: number, p: Placement): GreyImage {
  if (map.length !== modelWidth * modelHeight) {
    throw new RangeError(`resizeBack: map has ${map.length} values, expected ${modelWidth}x${modelHeight}`);
  }
  const out = new Uint8Array(p.srcWidth * p.srcHeight);
  const xs = nearestIndex(p.srcWidth, p.width);
  const ys = nearestIndex(p.srcHeight, p.height);
  for (let y = 0; y < p.srcHeight; y++) {
    const row = (ys[y] + p.y) * modelWidth + p.x;
    for (let x = 0; x < p.srcWidth; x++) out[y * p.srcWidth + x] = map[row + xs[x]];
  }
  return { width: p.srcWidth, height: p.srcHeight, data: out };
}

/** The content rectangle for an image of srcW x srcH in the model input. */
export function place(srcW: number, srcH: number, size: ModelSize, mode: Preprocessing['resize']): Placement {
  if (mode === 'stretch') return { srcWidth: srcW, srcHeight: srcH, x: 0, y: 0, width: size.width, height: size.height };
  if (mode !== 'letterbox') throw new RangeError(`preprocess: unknown resize mode '${String(mode)}' (stretch or letterbox)`);
  // scale = min(W/srcW, H/srcH), in integers: compare size.width*srcH with size.height*srcW
  let width: number;
  let height: number;
  if (size.width * srcH <= size.height * srcW) {
    width = size.width;
    height = Math.max(1, Math.min(size.height, Math.round((srcH * size.width) / srcW)));
  } else {
    height = size.height;
    width = Math.max(1, Math.min(size.width, Math.round((srcW * size.height) / srcH)));
  }
  return { srcWidth: srcW, srcHeight: srcH, x: (size.width - width) >> 1, y: (size.height - height) >> 1, width, height };
}

/**
 * Exact area-averaging resize (each output pixel = mean of the source area it
 * covers, fractional edge pixels weighted by their overlap), integer-exact:
 * weights are overlaps in units of 1/(src*dst), the result is rounded half up
 * once at the end. Works for down- and upscaling. Sums stay below 2^53.
 */
export function resizeArea(img: GreyImage, dstW: number, dstH: number): GreyImage {
  const { width: srcW, height: srcH, data } = img;
  const wx = areaWeights(srcW, dstW);
  const wy = areaWeights(srcH, dstH);
  // horizontal pass: each row sum in units of srcW (weights per output sum to srcW)
  const rows = rowSums(srcH * dstW);
  for (let y = 0; y < srcH; y++) {
    const r = y * srcW;
    for (let x = 0; x < dstW; x++) {
      const { start, weights } = wx[x];
      let s = 0;
      for (let k = 0; k < weights.length; k++) s += weights[k] * data[r + start + k];
      rows[y * dstW + x] = s;
    }
  }
  const out = new Uint8Array(dstW * dstH);
  const den = srcW * srcH;
  for (let y = 0; y < dstH; y++) {
    const { start, weights } = wy[y];
    for (let x = 0; x < dstW; x++) {
      let s = 0;
      for (let k = 0; k < weights.length; k++) s += weights[k] * rows[(start + k) * dstW + x];
      out[y * dstW + x] = Math.floor((2 * s + den) / (2 * den));
    }
  }
  return { width: dstW, height: dstH, data: out };
}

// A live service resizes every frame from one size to one size: the weights and the row sums'
// buffer are kept (a few KiB, and 240 KiB for 320x240 to 128), so a frame allocates only its
// output. A fresh 240 KiB array per frame was most of the main thread's external allocation,
// which V8 counts toward its next full GC (about one a second at 30 fps, ~10 ms each).
let rowsScratch = new Float64Array(0);
function rowSums(n: number): Float64Array {
  if (rowsScratch.length < n) rowsScratch = new Float64Array(n);
  return rowsScratch.subarray(0, n);
}

type AreaWeights = { start: number; weights: number[] }[];
const weightsCache = new Map<string, AreaWeights>();

/** Output pixel i covers [i*src, (i+1)*src) and source pixel j covers [j*dst, (j+1)*dst): integer overlaps. */
function areaWeights(src: number, dst: number): AreaWeights {
  const key = `${src}:${dst}`;
  let w = weightsCache.get(key);
  if (!w) {
    if (weightsCache.size >= 16) weightsCache.clear(); // a folder of mixed sizes: bounded
    weightsCache.set(key, (w = computeAreaWeights(src, dst)));
  }
  return w;
}

function computeAreaWeights(src: number, dst: number): AreaWeights {
  const out: AreaWeights = [];
  for (let i = 0; i < dst; i++) {
    const lo = i * src;
    const hi = (i + 1) * src;
    const start = Math.floor(lo / dst);
    const end = Math.ceil(hi / dst); // exclusive
    const weights: number[] = [];
    for (let j = start; j < end; j++) weights.push(Math.min(hi, (j + 1) * dst) - Math.max(lo, j * dst));
    // overlaps sum to src, so the horizontal pass is in units of src
    out.push({ start, weights });
  }
  return out;
}

/** For each of n output positions, the nearest of m source positions (pixel centres). */
function nearestIndex(n: number, m: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = Math.min(m - 1, Math.floor(((2 * i + 1) * m) / (2 * n)));
  return idx;
}

/** A model input size preprocess can make: positive integer sides, 1 or 3 channels. */
export function checkSize(size: ModelSize): void {
  if (!Number.isInteger(size.width) || !Number.isInteger(size.height) || size.width < 1 || size.height < 1) {
    throw new RangeError(`preprocess: model size must be positive integers, got ${size.width}x${size.height}`);
  }
  if (size.channels !== 1 && size.channels !== 3) throw new RangeError(`preprocess: channels must be 1 or 3, got ${size.channels}`);
}
