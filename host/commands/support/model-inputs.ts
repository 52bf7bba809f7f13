// Shared by the model commands (quantize, compare, infer, explain): images and
// phantom frames turned into model inputs with the model's own preprocessing.
import type { Preprocessing } from '../../../models/float-model.js';
import type { Arch } from '../../../models/graph.js';
import { preprocess, type ModelInput } from '../../../camera/preprocess.js';
import { readGreyImage, type GreyImage } from '../../../common/image-io.js';
import { listImageFolder } from '../../../common/image-folder.js';
import { FileError } from '../../../common/errors.js';

/**
 * The images under `dir` (recursively, masks excluded) in natural order
 * (common/image-folder.ts); with `limit`, that many evenly spaced ones.
 */
export function listImages(dir: string, limit?: number): string[] {
  const files = listImageFolder(dir, { recursive: true }).map((e) => e.image);
  if (files.length === 0) throw new FileError(dir, 'no PNG or JPEG images found', 'BAD_DATASET');
  return evenlySpaced(files, limit);
}

/** `limit` evenly spaced items (all when limit is undefined or not smaller). */
export function evenlySpaced<T>(items: T[], limit?: number): T[] {
  if (limit === undefined || limit >= items.length) return items;
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]);
}

export interface ImageInput extends ModelInput {
  file: string;
  grey: GreyImage;
}

/** Read an image and preprocess it exactly as the model expects. */
export function imageInput(file: string, arch: Arch, pre: Preprocessing): ImageInput {
  const grey = readGreyImage(file);
  return { ...preprocess(grey, arch, pre), file, grey };
}

/** Calibration frames from an image folder: `limit` evenly spaced images if given. */
export function imageCalibration(dir: string, arch: Arch, pre: Preprocessing, limit?: number): { frames: Uint8Array[]; files: string[] } {
  const files = listImages(dir, limit);
  return { frames: files.map((f) => imageInput(f, arch, pre).data), files };
}

/**
 * Calibration frames from the synthetic B-mode phantom (camera/sources/phantom.ts),
 * preprocessed like camera frames. Consecutive phantom frames are nearly alike
 * (speckle decorrelates slowly), so each frame comes from its own seed.
 */
export async function phantomCalibration(n: number, arch: Arch, pre: Preprocessing): Promise<Uint8Array[]> {
  const { phantomFrames } = await import('../../../camera/sources/phantom.js');
  const frames: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const [f] = phantomFrames(1, { seed: 1 + i, lesions: 1 + (i % 3) });
    frames.push(preprocess({ width: f.width, height: f.height, data: f.pixels }, arch, pre).data);
  }
  return frames;
}
