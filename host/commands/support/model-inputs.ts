// Shared by the model commands (quantize, compare, infer, explain, inspect):
// loading float and int8 models, turning images and phantom frames into model
// inputs with the model's own preprocessing, and listing image folders.
import { readdirSync, statSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join, relative, resolve } from 'node:path';
import type { FloatModel, Preprocessing } from '../../../models/float-model.js';
import type { Arch } from '../../../models/graph.js';
import { preprocess, type ModelInput } from '../../../camera/preprocess.js';
import { readGreyImage, type GreyImage } from '../../../common/image-io.js';
import { FileError, UsageError } from '../../../common/errors.js';

/** Read an ONNX (.onnx) or Keras HDF5 (.h5/.hdf5/.keras) float model; records its SHA-256 as provenance. */
export async function loadFloatModel(path: string): Promise<FloatModel> {
  const ext = extname(path).toLowerCase();
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new FileError(path, `cannot read model: ${(e as Error).message}`, 'NO_FILE');
  }
  let model: FloatModel;
  if (ext === '.onnx') {
    const { importOnnx } = (await import('../../../models/onnx/import.js')) as { importOnnx(p: string): FloatModel | Promise<FloatModel> };
    model = await importOnnx(path);
  } else if (ext === '.h5' || ext === '.hdf5' || ext === '.keras') {
    const { importKeras } = (await import('../../../models/keras/import.js')) as { importKeras(p: string): FloatModel | Promise<FloatModel> };
    model = await importKeras(path);
  } else {
    throw new UsageError(`${path}: unknown float model type '${ext || '(none)'}' (expected .onnx or .h5)`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  model.source = { format: ext === '.onnx' ? 'onnx' : 'keras-h5', ...model.source, file: resolve(path), sha256 };
  return model;
}

const IMAGE_RE = /\.(png|jpe?g)$/i;
const MASK_RE = /_mask(_\d+)?\.(png|jpe?g)$/i;

/** Every image under `dir` (recursively), ground-truth masks (`*_mask*.png`) excluded, in natural order. */
export function listImages(dir: string): string[] {
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new FileError(dir, `not a readable image folder: ${(e as Error).message}`, 'NO_FILE');
  }
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort(natural)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (IMAGE_RE.test(name) && !MASK_RE.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort((a, b) => natural(relative(dir, a), relative(dir, b)));
}

/** 'benign (2).png' before 'benign (10).png' */
export function natural(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
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
  let files = listImages(dir);
  if (files.length === 0) throw new FileError(dir, 'no PNG or JPEG images found for calibration', 'BAD_DATASET');
  if (limit !== undefined && limit < files.length) files = Array.from({ length: limit }, (_, i) => files[Math.floor((i * files.length) / limit)]);
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

export function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got '${v}'`);
  return n;
}

export type KernelsName = 'wasm' | 'reference';

/**
 * An engine for a loaded model: `engine` picks the direct executor or the chip
 * model (host/load/create-engine.ts); `kernels` 'reference' runs the plain
 * TypeScript integer kernels (slow, for checking), 'wasm' the best WASM build.
 * `keepTensors` (direct engine only) keeps every tensor readable after a run.
 */
export async function openEngine(
  model: import('../../../models/qmodel.js').QModel,
  opts: { engine?: string; kernels?: string; keepTensors?: boolean } = {},
): Promise<import('../../engine/engine.js').Engine> {
  const kernelsName = opts.kernels ?? 'wasm';
  if (kernelsName !== 'wasm' && kernelsName !== 'reference') throw new UsageError(`--kernels must be wasm or reference, got '${kernelsName}'`);
  const engineName = opts.engine ?? 'direct';
  if (engineName !== 'direct' && engineName !== 'chip') throw new UsageError(`--engine must be direct or chip, got '${engineName}'`);
  const { createEngine, defaultKernels } = await import('../../load/create-engine.js');
  const kernels = kernelsName === 'reference' ? (await import('../../kernels/reference/index.js')).createReferenceKernels() : await defaultKernels();
  if (opts.keepTensors) {
    if (engineName !== 'direct') throw new UsageError('per-tensor outputs need --engine direct');
    const { createDirectEngine } = await import('../../engine/direct-executor.js');
    return createDirectEngine(model, kernels, { keepTensors: true });
  }
  return createEngine(model, { engine: engineName, kernels });
}
