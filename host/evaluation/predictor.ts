// What `aunet eval` runs: the int8 .aunet model through an engine (direct
// executor or the chip model's engine), or a float ONNX model through onnxruntime-node
// (to measure the int8-versus-float gap with the very same metric code).
import { readFileSync } from 'node:fs';
import type { ModelSize } from '../../camera/preprocess.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../../models/float-model.js';
import { FileError } from '../../common/errors.js';
import type { ProbabilityMap } from '../engine/engine.js';
import { loadModel } from '../load/model-loader.js';
import { loadEngine } from '../load/engine-loader.js';

export interface Prediction {
  /** 0/1 at the model's size: probability > 0.5 */
  mask: Uint8Array;
  /** probability * 256 clamped to 255 (an 8-bit map, as engines publish it) */
  prob: Uint8Array;
  /** a1..a4 when the model exposes them */
  attention?: ProbabilityMap[];
}

export interface Predictor {
  /** e.g. 'int8 direct', 'float onnx' */
  kind: string;
  size: ModelSize;
  preprocessing: Preprocessing;
  /** the .aunet header's meta, for reports */
  meta?: Record<string, unknown>;
  predict(input: Uint8Array): Promise<Prediction>;
  close(): Promise<void>;
}

/** `threads`: kernel threads of the int8 engine (the loader's default when not given); onnxruntime runs on one. */
export async function openPredictor(file: string, opts: { engine?: 'direct' | 'chip'; threads?: number; preprocessing?: Preprocessing }): Promise<Predictor> {
  if (/\.onnx$/i.test(file)) return openOnnx(file, opts.preprocessing ?? DEFAULT_PREPROCESSING);
  const { model } = await loadModel(file);
  const loaded = await loadEngine(model, { engine: opts.engine ?? 'direct', threads: opts.threads });
  const { engine } = loaded;
  const { arch } = model;
  return {
    kind: `int8 ${opts.engine ?? 'direct'}`,
    size: { width: arch.width, height: arch.height, channels: arch.channels },
    preprocessing: model.preprocessing,
    meta: model.meta,
    async predict(input) {
      const r = engine.run(input);
      return { mask: r.mask.slice(), prob: r.prob.data.slice(), attention: r.attention.map((a) => ({ ...a, data: a.data.slice() })) };
    },
    close: () => loaded.close(),
  };
}

async function openOnnx(file: string, preprocessing: Preprocessing): Promise<Predictor> {
  const ort = await import('onnxruntime-node');
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(readFileSync(file), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (e) {
    throw new FileError(file, `cannot load ONNX model: ${(e as Error).message}`, 'BAD_MODEL');
  }
  const meta = session.inputMetadata[0];
  const shape = meta && meta.isTensor ? (meta.shape as (number | string)[]) : [];
  const [, c, h, w] = shape;
  if (shape.length !== 4 || typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') {
    throw new FileError(file, `expected one NCHW float input of fixed size, got shape [${shape.join(', ')}]`, 'BAD_MODEL');
  }
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const plane = h * w;
  return {
    kind: 'float onnx',
    size: { width: w, height: h, channels: c },
    preprocessing,
    async predict(input) {
      // NHWC bytes -> NCHW float pixel / 255
      const x = new Float32Array(c * plane);
      for (let p = 0; p < plane; p++) for (let k = 0; k < c; k++) x[k * plane + p] = input[p * c + k] / 255;
      const out = await session.run({ [inputName]: new ort.Tensor('float32', x, [1, c, h, w]) });
      const probs = out[outputName].data as Float32Array;
      const mask = new Uint8Array(plane);
      const prob = new Uint8Array(plane);
      for (let p = 0; p < plane; p++) {
        mask[p] = probs[p] > 0.5 ? 1 : 0;
        prob[p] = Math.min(255, Math.round(probs[p] * 256));
      }
      return { mask, prob };
    },
    async close() {
      await session.release();
    },
  };
}
