// Whole-network benchmark: the bench variants, their deterministic models
// (random He-normal floats quantized by the real quantizer, cached on disk
// because calibrating the float reference takes a while), the timing loop with
// a per-layer profile, and the machine description every figure is printed with.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { buildGraph, graphMacs, type Arch } from '../../models/graph.js';
import type { FloatModel } from '../../models/float-model.js';
import type { QModel } from '../../models/qmodel.js';
import { randomFloatModel, syntheticFrames } from '../../models/random-model.js';
import { quantizeModel } from '../../models/quantizer.js';
import { decodeModel, encodeModel } from '../../models/format.js';
import { packageFile } from '../../common/package-root.js';
import type { DirectEngine } from '../engine/direct-executor.js';
import type { Engine } from '../engine/engine.js';

export const VARIANTS = {
  seed: { filters: 32, height: 256, width: 256, channels: 3 },
  mid: { filters: 16, height: 256, width: 256, channels: 1 },
  lite: { filters: 8, height: 128, width: 128, channels: 1 },
} as const satisfies Record<string, Arch>;
export type Variant = keyof typeof VARIANTS;
export const VARIANT_NAMES = Object.keys(VARIANTS) as Variant[];

/** frames timed by default: about 5 s of work per variant at the target speed */
export const DEFAULT_FRAMES: Record<Variant, number> = { seed: 10, mid: 30, lite: 200 };

const WEIGHT_SEED = 2024;
const CALIBRATION_FRAMES = 2;

export interface BenchModels {
  arch: Arch;
  float: FloatModel;
  quantized: QModel;
  /** frames to run (synthetic ultrasound-like, not the calibration frames) */
  frames: Uint8Array[];
  /** true when the quantized model came from the cache */
  cached: boolean;
}

/**
 * The variant's float model and its int8 quantization. The quantized model is
 * cached under `cacheDir` keyed by the sources that determine it, so editing
 * the quantizer or the random model invalidates it.
 */
export function benchModels(variant: Variant, cacheDir: string | null, onProgress?: (done: number, total: number) => void): BenchModels {
  const arch: Arch = { ...VARIANTS[variant] };
  const float = randomFloatModel(arch, WEIGHT_SEED);
  const frames = syntheticFrames(arch, 4, 99);
  const file = cacheDir && join(cacheDir, `${variant}-${sourceKey(variant)}.aunet`);
  if (file && existsSync(file)) {
    try {
      return { arch, float, quantized: decodeModel(readFileSync(file), file), frames, cached: true };
    } catch {
      // unreadable cache entry (format changed): quantize again below
    }
  }
  const calibration = syntheticFrames(arch, CALIBRATION_FRAMES, 1);
  const quantized = quantizeModel(float, calibration, {
    onProgress,
    calibration: { source: 'synthetic', frames: CALIBRATION_FRAMES, seed: 1 },
    date: '2026-01-01T00:00:00Z',
  });
  if (file && cacheDir) {
    mkdirSync(cacheDir, { recursive: true });
    const part = `${file}.${process.pid}.part`; // concurrent benches never see half a file
    writeFileSync(part, encodeModel(quantized));
    renameSync(part, file);
  }
  return { arch, float, quantized, frames, cached: false };
}

function sourceKey(variant: Variant): string {
  const h = createHash('sha256').update(`${variant}:${WEIGHT_SEED}:${CALIBRATION_FRAMES}`);
  for (const f of ['quantizer.ts', 'quant-math.ts', 'float-reference.ts', 'random-model.ts', 'graph.ts', 'format.ts']) {
    h.update(readFileSync(packageFile(`models/${f}`)));
  }
  return h.digest('hex').slice(0, 16);
}

export interface LayerRow {
  name: string;
  kind: string;
  block: string;
  macs: number;
  /** median wall milliseconds over the timed frames */
  ms: number;
  gmacPerSec: number | null;
  /** median process CPU milliseconds (not inflated by waiting for a core on a shared machine) */
  cpuMs: number;
  gmacPerCpuSec: number | null;
}

export interface Timing {
  frames: number;
  /** untimed frames run before them, and how long they took (ms) */
  warmup: { frames: number; ms: number };
  /** median whole-frame milliseconds (input in, all ops, outputs out) */
  msPerFrame: number;
  p90Ms: number;
  minMs: number;
  gmacPerSec: number;
  /**
   * CPU time of this process per frame over the timed loop (process.cpuUsage).
   * On a shared machine wall time includes waiting for a core; CPU time does not.
   */
  cpuMsPerFrame: number;
  /** GMAC/s over CPU time */
  gmacPerCpuSec: number;
  layers: LayerRow[];
  /** chip-model cycles of the last frame, for engines that model a chip */
  cycles?: number;
}

/**
 * Time `engine` on `frames` (cycled): `warmup` untimed frames, then `n` timed
 * ones. Engines with a per-step profile (the direct executor) also get per-layer rows.
 */
export function timeEngine(engine: Engine, frames: Uint8Array[], n: number, warmup = 2, onFrame?: (i: number) => void): Timing {
  return timeEngines([engine], frames, n, warmup, onFrame)[0];
}

/**
 * Least time each engine runs untimed before its frames count. V8 compiles the engine's hot
 * JavaScript (the thread pool's divide and claim, the split rule's helpers) with its optimising
 * compiler on a background thread, for up to 23-31 ms a function, over the first 25-30 frames
 * of the seed at 2 threads (`node --trace-opt`): on a 2-core box that thread takes a core from
 * a kernel thread mid-layer, and the frame waits. Seed, 2 threads over 1, three alternations
 * on the 2-vCPU EPYC (2026-12-01): 1.56x / 1.72x / 1.94x after the settle rule alone, 1.87x /
 * 1.96x / 1.92x after 3 s.
 */
export const WARMUP_MS = 3000;

/**
 * Time several engines with their frames interleaved (frame i of every engine, then frame i + 1),
 * so that each sees the same minutes of a shared machine whose speed drifts: their ratios compare
 * like with like, where timing one engine after the other compared two different minutes.
 */
export function timeEngines(engines: readonly Engine[], frames: Uint8Array[], n: number, warmup = 2, onFrame?: (i: number) => void, warmupMs = WARMUP_MS): Timing[] {
  // V8 runs new WebAssembly code in its baseline tier and optimises hot functions as they
  // run, and a threaded module's workers start cold: warm up until frame times settle
  // (within 10% of the best so far), at least `warmup` frames and at most 4x that, for at
  // least `warmupMs`; and past the frames an engine still tunes itself on (the chip's layers
  // choosing their way)
  const warmed = engines.map((engine) => {
    let best = Infinity;
    const start = performance.now();
    let i = 0;
    for (let last = Infinity; i < warmup || (last > 1.1 * best && i < 4 * warmup) || performance.now() < start + warmupMs || (engine.tuningFrames ?? 0) > 0; i++) {
      const t0 = performance.now();
      engine.run(frames[i % frames.length]);
      last = performance.now() - t0;
      best = Math.min(best, last);
    }
    return { frames: i, ms: performance.now() - start };
  });
  const runs = engines.map((engine) => {
    const direct = 'runProfiled' in engine ? (engine as DirectEngine) : null;
    const steps = direct?.steps ?? [];
    return {
      engine,
      direct,
      steps,
      scratch: new Float64Array(steps.length),
      cpuScratch: new Float64Array(steps.length),
      frameMs: [] as number[],
      perLayer: steps.map(() => [] as number[]),
      perLayerCpu: steps.map(() => [] as number[]),
      cpuMicros: 0,
      cycles: undefined as number | undefined,
    };
  });
  for (let i = 0; i < n; i++) {
    const frame = frames[i % frames.length];
    for (const r of runs) {
      r.scratch.fill(0);
      r.cpuScratch.fill(0);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const result = r.direct ? r.direct.runProfiled(frame, r.scratch, r.cpuScratch) : r.engine.run(frame);
      r.frameMs.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      r.cpuMicros += cpu.user + cpu.system;
      r.cycles = result.cycles;
      for (let s = 0; s < r.steps.length; s++) {
        r.perLayer[s].push(r.scratch[s]);
        r.perLayerCpu[s].push(r.cpuScratch[s]);
      }
    }
    onFrame?.(i + 1);
  }
  return runs.map((r, k) => {
    const cpuMsPerFrame = r.cpuMicros / 1000 / n;
    const macs = graphMacs(buildGraph(r.engine.arch));
    const med = median(r.frameMs);
    return {
      frames: n,
      warmup: warmed[k],
      msPerFrame: med,
      p90Ms: quantile(r.frameMs, 0.9),
      minMs: Math.min(...r.frameMs),
      gmacPerSec: macs / (med * 1e6),
      cpuMsPerFrame,
      gmacPerCpuSec: macs / (cpuMsPerFrame * 1e6),
      ...(r.cycles === undefined ? {} : { cycles: r.cycles }),
      layers: r.steps.map((st, s) => {
        const ms = median(r.perLayer[s]);
        const cpuMs = median(r.perLayerCpu[s]);
        const rate = (t: number) => (st.macs > 0 && t > 0 ? st.macs / (t * 1e6) : null);
        return { name: st.name, kind: st.kind, block: st.block, macs: st.macs, ms, gmacPerSec: rate(ms), cpuMs, gmacPerCpuSec: rate(cpuMs) };
      }),
    };
  });
}

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** linear-interpolated quantile */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  v8: string;
  os: string;
  /** the kernel build timed, e.g. 'wasm-simd' */
  kernelBuild?: string;
}

export function machineInfo(kernelBuild?: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    kernelBuild,
  };
}

/** The machine in one line, as every benchmark prints it beside its figures. */
export function machineLine(m: MachineInfo = machineInfo()): string {
  return `${m.cpu}, ${m.cores} cores, Node ${m.node} (V8 ${m.v8}), ${m.os}`;
}

export function variantMacs(variant: Variant): number {
  return graphMacs(buildGraph({ ...VARIANTS[variant] }));
}
