// Whole-network comparison of a WASM kernel build with the reference kernels:
// the same random QModels and frames through the direct executor on both
// backends, every tensor compared byte for byte. Used by
// executor-bitexact.test.ts in-process, and run as a script in a child Node
// with --experimental-wasm-relaxed-simd for the relaxed build:
//   node --experimental-wasm-relaxed-simd --import tsx tests/host/engine/support/network-compare.ts relaxed
import { pathToFileURL } from 'node:url';
import { createReferenceKernels } from '../../../../host/kernels/reference/index.js';
import { createWasmKernels, type WasmBuild } from '../../../../host/kernels/wasm-kernels.js';
import { createDirectEngine } from '../../../../host/engine/direct-executor.js';
import type { InferenceResult } from '../../../../host/engine/engine.js';
import { buildGraph, type Arch } from '../../../../models/graph.js';
import { randomQModel } from '../../../../models/random-qmodel.js';
import { prng, syntheticFrames } from '../../../../models/random-model.js';

export interface CompareResult {
  arch: Arch;
  seed: number;
  /** kernel set name of the WASM side, e.g. 'wasm-simd' */
  build: string;
  /** ops compared (every tensor of every frame) */
  tensors: number;
  /** first mismatch: tensor, frame, differing bytes, first index with both values; null when identical */
  mismatch: null | { tensor: string; frame: number; differing: number; of: number; index: number; wasm: number; reference: number };
}

/** F in {1,2,3} x side in {16,32,48} x channels in {1,3}, plus non-square inputs. */
export function compareCases(): { arch: Arch; seed: number }[] {
  const cases: { arch: Arch; seed: number }[] = [];
  let seed = 1;
  for (const filters of [1, 2, 3]) {
    for (const side of [16, 32, 48]) {
      for (const channels of [1, 3]) cases.push({ arch: { filters, height: side, width: side, channels }, seed: seed++ });
    }
  }
  cases.push({ arch: { filters: 2, height: 16, width: 48, channels: 3 }, seed: seed++ });
  cases.push({ arch: { filters: 3, height: 48, width: 32, channels: 1 }, seed: seed++ });
  return cases;
}

export function compareNetwork(build: WasmBuild, arch: Arch, seed: number): CompareResult {
  const model = randomQModel(arch, { seed });
  const ref = createDirectEngine(model, createReferenceKernels(), { keepTensors: true });
  const wasmKernels = createWasmKernels({ build });
  const wasm = createDirectEngine(model, wasmKernels, { keepTensors: true });
  // also the planned arena (no keepTensors): its outputs must match too
  const planned = createDirectEngine(model, createWasmKernels({ build }));
  const r = prng(seed);
  const frames = [
    syntheticFrames(arch, 1, seed)[0],
    Uint8Array.from({ length: arch.height * arch.width * arch.channels }, () => Math.floor(r() * 256)),
  ];
  const g = buildGraph(arch);
  let tensors = 0;
  for (const [f, frame] of frames.entries()) {
    const a = ref.run(frame);
    const b = wasm.run(frame);
    for (const name of ['input', ...g.ops.map((o) => o.output)]) {
      tensors++;
      const x = ref.tensor!(name);
      const y = wasm.tensor!(name);
      let differing = 0;
      let first = -1;
      for (let i = 0; i < x.length; i++) {
        if (x[i] !== y[i]) {
          differing++;
          if (first < 0) first = i;
        }
      }
      if (differing > 0) {
        return { arch, seed, build: wasmKernels.name, tensors, mismatch: { tensor: name, frame: f, differing, of: x.length, index: first, wasm: y[first], reference: x[first] } };
      }
    }
    // the results the engine returns, from the kept tensors and from the planned arena
    for (const [what, result] of [['keepTensors', b], ['planned arena', planned.run(frame)]] as const) {
      const bad = firstDifferentOutput(a, result);
      if (bad) return { arch, seed, build: wasmKernels.name, tensors, mismatch: { tensor: `${bad} (${what} result)`, frame: f, differing: -1, of: -1, index: -1, wasm: -1, reference: -1 } };
    }
  }
  return { arch, seed, build: wasmKernels.name, tensors, mismatch: null };
}

function firstDifferentOutput(a: InferenceResult, b: InferenceResult): string | null {
  const same = (x: Uint8Array, y: Uint8Array) => x.length === y.length && x.every((v, i) => v === y[i]);
  if (!same(a.prob.data, b.prob.data)) return 'prob';
  if (!same(a.mask, b.mask)) return 'mask';
  for (let i = 0; i < 4; i++) if (!same(a.attention[i].data, b.attention[i].data)) return `a${i + 1}`;
  return null;
}

// script mode: print every case's result as one JSON array
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const build = (process.argv[2] ?? 'simd') as WasmBuild;
  process.stdout.write(JSON.stringify(compareCases().map((c) => compareNetwork(build, c.arch, c.seed))));
}
