// Pictures of model outputs for infer, explain and compare: 8-bit maps shown
// large through a colour map, probability overlays on the original image.
import type { GreyImage, RgbImage } from '../../../common/image-io.js';
import { applyColormap, drawContour, greyToRgb, overlayHeatmap, resizeNearest, type ColormapName } from '../../../common/colormap.js';
import { resizeBack, type Placement } from '../../../camera/preprocess.js';
import { mkdirSync } from 'node:fs';
import { FileError } from '../../../common/errors.js';

/** Create the folder the pictures go to, or say which folder could not be made. */
export function outputFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new FileError(dir, `cannot create output folder: ${(e as Error).message}`, 'WRITE_FAILED');
  }
}

/** An 8-bit map shown at width x height (nearest neighbour) through a colour map. */
export function heatmap(map: GreyImage, width: number, height: number, cmap: ColormapName = 'inferno'): RgbImage {
  return applyColormap(map.width === width && map.height === height ? map : resizeNearest(map, width, height), cmap);
}

/** Float values -> 0..255 by their own min and max (a constant map is all 0). */
export function normalizeToU8(values: Float32Array | number[], width: number, height: number): GreyImage {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo;
  const data = Uint8Array.from(values, (v) => (span > 0 ? Math.round(((v - lo) / span) * 255) : 0));
  return { width, height, data };
}

/**
 * The original picture with a model-grid map (probability or heat, 0..255)
 * blended over it and, if given, the mask's outline; the map is taken back to
 * the original size through the preprocessing placement.
 */
export function overlayOnOriginal(picture: GreyImage, map: Uint8Array, mask: Uint8Array | undefined, modelW: number, modelH: number, placement: Placement): RgbImage {
  const heat = resizeBack(map, modelW, modelH, placement);
  const img = overlayHeatmap(picture, heat, 0.6, 'inferno');
  if (mask) drawContour(img, resizeBack(mask, modelW, modelH, placement).data, [0, 255, 64]);
  return img;
}

/** Panels side by side with a `gap`-pixel black gutter; panels may differ in height (top-aligned). */
export function sideBySide(panels: RgbImage[], gap = 4): RgbImage {
  const width = panels.reduce((s, p) => s + p.width, 0) + gap * (panels.length - 1);
  const height = Math.max(...panels.map((p) => p.height));
  const data = new Uint8Array(width * height * 3);
  let x0 = 0;
  for (const p of panels) {
    for (let y = 0; y < p.height; y++) data.set(p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), (y * width + x0) * 3);
    x0 += p.width + gap;
  }
  return { width, height, data };
}

export { greyToRgb };

/** Enlarge an RGB image by an integer factor (pixel replication), so small model grids stay readable. */
export function enlarge(img: RgbImage, f: number): RgbImage {
  if (f <= 1) return img;
  const width = img.width * f;
  const height = img.height * f;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(y / f);
    for (let x = 0; x < width; x++) {
      const s = (sy * img.width + Math.floor(x / f)) * 3;
      const d = (y * width + x) * 3;
      data[d] = img.data[s];
      data[d + 1] = img.data[s + 1];
      data[d + 2] = img.data[s + 2];
    }
  }
  return { width, height, data };
}
