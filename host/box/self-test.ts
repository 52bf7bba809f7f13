// The model self-test a box runs before it confirms a new image: instantiate
// the image's own runtime module, load its model, infer the built-in golden
// frame and hash every output. The build records the hash; a box whose result
// differs (a broken runtime, a damaged model, a different kernel build that is
// not bit-exact) refuses to confirm the image.
import { createHash } from 'node:crypto';
import type { Arch } from '../../models/graph.js';
import { modelFromBytes } from '../load/model-loader.js';
import { loadEngine } from '../load/engine-loader.js';
import type { InferenceResult } from '../engine/engine.js';
import { section, type ParsedImage } from '../../firmware/image.js';
import { runtimeKernels, type ExecutableBuild } from './runtime-choice.js';

export interface SelfTestResult {
  ok: boolean;
  detail: string;
}

export const GOLDEN_FRAME = 'golden-v1';

/**
 * A fixed synthetic B-mode-like frame at the model's input size: deterministic
 * speckle (integer hash, no Math.random) over a depth ramp, with a dark oval
 * lesion, so every layer sees non-trivial data.
 */
export function goldenFrame(arch: Arch): Uint8Array {
  const { width: w, height: h, channels: c } = arch;
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = Math.imul(x + 1, 0x9e3779b1) ^ Math.imul(y + 1, 0x85ebca6b);
      s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d);
      const speckle = ((s ^ (s >>> 13)) >>> 0) % 64;
      const dx = (x - w * 0.55) / (w * 0.18);
      const dy = (y - h * 0.45) / (h * 0.12);
      const inLesion = dx * dx + dy * dy < 1;
      const v = Math.min(255, Math.round((inLesion ? 30 : 150 - (70 * y) / h) + speckle));
      for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] = v;
    }
  }
  return out;
}

export function hashOutputs(r: InferenceResult): string {
  const h = createHash('sha256').update(r.prob.data).update(r.mask);
  for (const a of r.attention) h.update(a.data);
  return h.digest('hex');
}

/** Run the golden frame through a runtime module of `build` (on `threads` kernel threads) and a model file; return the output hash. */
export async function selfTestHash(runtimeWasm: Uint8Array, modelBytes: Uint8Array, build: ExecutableBuild = 'simd', threads = 1): Promise<string> {
  const { model } = modelFromBytes(modelBytes, 'model section');
  const kernels = await runtimeKernels({ build, bytes: runtimeWasm }, threads);
  try {
    const { engine } = await loadEngine(model, { engine: 'direct', kernels });
    return hashOutputs(engine.run(goldenFrame(model.arch)));
  } finally {
    await (kernels as { close?: () => Promise<void> }).close?.();
  }
}

/** The self-test: the image's own runtime build and model must reproduce the build's hash. */
export async function imageSelfTest(img: ParsedImage, build: ExecutableBuild, threads = 1): Promise<SelfTestResult> {
  const expected = img.manifest.selfTest.outputSha256;
  const got = await selfTestHash(section(img, `runtime-${build}`), section(img, 'model'), build, threads);
  return got === expected
    ? { ok: true, detail: `golden frame output ${got.slice(0, 12)} matches (${build} runtime)` }
    : { ok: false, detail: `golden frame output ${got.slice(0, 12)} differs from the build's ${expected.slice(0, 12)} (${build} runtime)` };
}
