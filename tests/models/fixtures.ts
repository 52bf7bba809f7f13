// Small inputs for the models tests. Random models come from
// models/random-model.ts (float, He-normal, non-trivial BatchNorm) and
// models/random-qmodel.ts (a valid int8 model built directly).
import type { Arch } from '../../models/graph.js';
import { prng } from '../../models/random-model.js';

/** Uniform-noise preprocessed frames (H*W*C bytes), reproducible for a seed. */
export function noiseFrames(arch: Arch, count: number, seed = 7): Uint8Array[] {
  const r = prng(seed);
  return Array.from({ length: count }, () => Uint8Array.from({ length: arch.height * arch.width * arch.channels }, () => Math.floor(r() * 256)));
}
