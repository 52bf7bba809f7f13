// Deterministic random models and frames for benchmarks and tests: a float
// model with He-normal conv weights (Keras' he_normal, std sqrt(2 / fan_in);
// Keras truncates at 2 std, we do too) and non-trivial BatchNorm statistics,
// for any arch; and synthetic ultrasound-like frames (speckle over a dark
// lesion) to calibrate it. Same seed, same bytes, on every machine.
import { buildGraph, convOps, type Arch } from './graph.js';
import { DEFAULT_PREPROCESSING, type FloatModel } from './float-model.js';

/** mulberry32: a small, fast, seedable 32-bit PRNG; uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller) from a uniform source. */
export function gaussian(uniform: () => number): () => number {
  return () => {
    const u = 1 - uniform(); // (0, 1]
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export function randomFloatModel(arch: Arch, seed = 1): FloatModel {
  const g = buildGraph(arch);
  const rand = prng(seed);
  const normal = gaussian(rand);
  const truncated = () => {
    for (;;) {
      const x = normal();
      if (Math.abs(x) <= 2) return x;
    }
  };
  const convs: FloatModel['convs'] = {};
  for (const op of convOps(g)) {
    const fanIn = op.k * op.k * op.cin;
    // truncation at 2 std shrinks the std by 0.8796; Keras rescales for it
    const std = Math.sqrt(2 / fanIn) / 0.87962566103423978;
    const weights = new Float32Array(op.cout * fanIn);
    for (let i = 0; i < weights.length; i++) weights[i] = truncated() * std;
    const bias = new Float32Array(op.cout);
    for (let i = 0; i < bias.length; i++) bias[i] = 0.02 * normal();
    convs[op.name] = { weights, bias };
  }
  const batchNorms: FloatModel['batchNorms'] = {};
  for (const op of g.ops) {
    if (op.kind !== 'affine') continue;
    const c = op.channels;
    const gamma = new Float32Array(c);
    const beta = new Float32Array(c);
    const mean = new Float32Array(c);
    const variance = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      gamma[i] = 0.7 + 0.6 * rand();
      beta[i] = 0.1 * normal();
      mean[i] = 0.05 + 0.3 * rand();
      variance[i] = 0.05 + 0.45 * rand();
    }
    batchNorms[op.name] = { gamma, beta, mean, variance, epsilon: 1e-3 };
  }
  return { arch, preprocessing: DEFAULT_PREPROCESSING, convs, batchNorms, source: { format: `random he-normal seed ${seed}` } };
}

/**
 * Synthetic ultrasound-like frames at the arch's size (NHWC 8-bit, grey
 * replicated on 3 channels): a bright speckled background with a dark elliptic
 * lesion, shaded with depth. For calibrating and benchmarking random models.
 */
export function syntheticFrames(arch: Arch, count: number, seed = 7): Uint8Array[] {
  const rand = prng(seed);
  const { height: H, width: W, channels: C } = arch;
  const frames: Uint8Array[] = [];
  for (let f = 0; f < count; f++) {
    const cy = H * (0.3 + 0.4 * rand());
    const cx = W * (0.3 + 0.4 * rand());
    const ry = H * (0.08 + 0.12 * rand());
    const rx = W * (0.1 + 0.15 * rand());
    const frame = new Uint8Array(H * W * C);
    for (let y = 0; y < H; y++) {
      const depth = 1 - 0.5 * (y / H);
      for (let x = 0; x < W; x++) {
        const d = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2;
        const tissue = d < 1 ? 35 : 150 * depth;
        const speckle = tissue * (0.6 + 0.8 * rand());
        const v = Math.max(0, Math.min(255, Math.round(speckle)));
        for (let c = 0; c < C; c++) frame[(y * W + x) * C + c] = v;
      }
    }
    frames.push(frame);
  }
  return frames;
}
