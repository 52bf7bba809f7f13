// Colour maps for heatmaps and overlays (8-bit value -> RGB), tabulated once.
import type { GreyImage, RgbImage } from './image-io.js';

export type ColormapName = 'inferno' | 'viridis' | 'jet' | 'grey';

// Anchor colours sampled from matplotlib's maps; linear interpolation between them.
const ANCHORS: Record<ColormapName, number[][]> = {
  inferno: [[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164]],
  viridis: [[68, 1, 84], [70, 50, 127], [54, 92, 141], [39, 127, 142], [31, 161, 135], [74, 194, 109], [159, 218, 58], [253, 231, 37]],
  jet: [[0, 0, 128], [0, 0, 255], [0, 128, 255], [0, 255, 255], [128, 255, 128], [255, 255, 0], [255, 128, 0], [255, 0, 0], [128, 0, 0]],
  grey: [[0, 0, 0], [255, 255, 255]],
};

const TABLES = new Map<ColormapName, Uint8Array>();

/** 256 RGB triples for the named map. */
export function colormapTable(name: ColormapName): Uint8Array {
  let t = TABLES.get(name);
  if (t) return t;
  const a = ANCHORS[name];
  t = new Uint8Array(256 * 3);
  for (let v = 0; v < 256; v++) {
    const pos = (v / 255) * (a.length - 1);
    const i = Math.min(Math.floor(pos), a.length - 2);
    const f = pos - i;
    for (let ch = 0; ch < 3; ch++) t[v * 3 + ch] = Math.round(a[i][ch] + (a[i + 1][ch] - a[i][ch]) * f);
  }
  TABLES.set(name, t);
  return t;
}

/** Map an 8-bit single-channel image through a colour map. */
export function applyColormap(img: GreyImage, name: ColormapName = 'inferno'): RgbImage {
  const t = colormapTable(name);
  const out = new Uint8Array(img.width * img.height * 3);
  for (let p = 0; p < img.width * img.height; p++) {
    const v = img.data[p] * 3;
    out[p * 3] = t[v];
    out[p * 3 + 1] = t[v + 1];
    out[p * 3 + 2] = t[v + 2];
  }
  return { width: img.width, height: img.height, data: out };
}

/** Nearest-neighbour resize of a single-channel 8-bit image (for showing small maps large). */
export function resizeNearest(img: GreyImage, width: number, height: number): GreyImage {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(img.height - 1, Math.floor((y * img.height) / height));
    for (let x = 0; x < width; x++) out[y * width + x] = img.data[sy * img.width + Math.min(img.width - 1, Math.floor((x * img.width) / width))];
  }
  return { width, height, data: out };
}

/**
 * Blend a heatmap over a grey picture: out = (1 - alpha*v/255) * grey + alpha*v/255 * colour(v),
 * so cold regions keep the picture visible. `heat` must have the picture's size.
 */
export function overlayHeatmap(picture: GreyImage, heat: GreyImage, alpha = 0.6, name: ColormapName = 'inferno'): RgbImage {
  const t = colormapTable(name);
  const n = picture.width * picture.height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const v = heat.data[p];
    const a = (alpha * v) / 255;
    for (let ch = 0; ch < 3; ch++) out[p * 3 + ch] = Math.round((1 - a) * picture.data[p] + a * t[v * 3 + ch]);
  }
  return { width: picture.width, height: picture.height, data: out };
}

/** Draw a mask's boundary (mask pixels with a non-mask 4-neighbour) in `colour` over an RGB image, in place. */
export function drawContour(img: RgbImage, mask: Uint8Array, colour: [number, number, number] = [0, 255, 64]): RgbImage {
  const { width: w, height: h } = img;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (!mask[p]) continue;
      const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !mask[p - 1] || !mask[p + 1] || !mask[p - w] || !mask[p + w];
      if (edge) img.data.set(colour, p * 3);
    }
  }
  return img;
}

export function greyToRgb(img: GreyImage): RgbImage {
  const out = new Uint8Array(img.width * img.height * 3);
  for (let p = 0; p < img.width * img.height; p++) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = img.data[p];
  return { width: img.width, height: img.height, data: out };
}
