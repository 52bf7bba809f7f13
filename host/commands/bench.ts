// `aunet bench`: whole-network speed of the int8 engines on the bench variants
// (seed = F 32 256x256x3, mid = F 16 256x256x1, lite = F 8 128x128x1), with a
// per-layer profile, both kernel builds, and onnxruntime-web side by side.
// Relaxed SIMD needs --experimental-wasm-relaxed-simd on Node 20: when this
// process lacks it, the relaxed run happens in a child Node started with it.
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import cliProgress from 'cli-progress';
import { AunetError, UsageError } from '../../common/errors.js';
import {
  DEFAULT_FRAMES, VARIANTS, VARIANT_NAMES, benchModels, machineInfo, timeEngine, variantMacs,
  type MachineInfo, type Timing, type Variant,
} from '../bench/network.js';
import { timeOnnxWeb, type OnnxWebTiming } from '../bench/onnx-web.js';
import type { DirectEngine } from '../engine/direct-executor.js';
import { createWasmKernels, relaxedSimdSupported } from '../kernels/wasm-kernels.js';
import { loadEngine } from '../load/engine-loader.js';
import { engineOption } from './support/engine-options.js';
import { parseInteger } from '../../common/cli-args.js';
import { packageFile } from '../../common/package-root.js';

/** auto = relaxed SIMD when this Node has it, else plain SIMD */
type KernelBuild = 'simd' | 'relaxed' | 'auto';
type BuildOption = KernelBuild | 'both';
const BUILDS: readonly BuildOption[] = ['simd', 'relaxed', 'auto', 'both'];
const CHILD_ENV = 'AUNET_BENCH_CHILD';
const CACHE_DIR = packageFile('.tmp/bench-models');

interface Options {
  model: string;
  frames?: string;
  threads: string;
  json?: boolean;
  build: string;
  engine: string;
  vs?: string;
  cache: boolean;
  progress: boolean;
}

/** One timed run of one kernel build. */
export interface BuildRun extends Timing {
  /** the KernelSet timed: 'wasm-simd' or 'wasm-relaxed-simd' */
  build: string;
  engine: string;
  /** planned activation arena and the heap bytes of weights and params */
  memory?: { weights: number; params: number; activations: number };
  machine: MachineInfo;
}

export interface BenchReport extends BuildRun {
  variant: Variant;
  arch: (typeof VARIANTS)[Variant];
  macs: number;
  builds: BuildRun[];
  /** ratio = onnxruntime-web median ms / ours; cpuRatio the same over CPU time */
  onnxruntimeWeb?: OnnxWebTiming & { ratio: number; cpuRatio: number };
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('benchmark the int8 engines and kernel builds on a bench variant (per-layer and whole-frame figures)')
    .option('--model <variant>', `bench variant: ${VARIANT_NAMES.join(' | ')}`, 'seed')
    .option('--frames <n>', `timed frames (default ${Object.entries(DEFAULT_FRAMES).map(([k, v]) => `${k} ${v}`).join(', ')})`)
    .option('--threads <n>', 'threads (the kernels are single-threaded: only 1)', '1')
    .option('--json', 'print one JSON object instead of tables')
    .option('--build <build>', `kernel build: ${BUILDS.join(' | ')} (both = plain SIMD and relaxed SIMD)`, 'auto')
    .addOption(engineOption(undefined, 'direct'))
    .option('--vs <name>', 'also run the float network in onnxruntime-web and print the ratio')
    .option('--no-cache', 'quantize the bench model again instead of reading .tmp/bench-models')
    .option('--no-progress', 'no progress bars')
    .action(async (o: Options) => {
      const report = await bench(o);
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    });
}

async function bench(o: Options): Promise<BenchReport> {
  if (!(VARIANT_NAMES as string[]).includes(o.model)) throw new UsageError(`--model must be one of ${VARIANT_NAMES.join(', ')}, got '${o.model}'`);
  const variant = o.model as Variant;
  const frames = parseInteger(o.frames, '--frames', { min: 1 }) ?? DEFAULT_FRAMES[variant];
  if (o.threads !== '1') throw new UsageError(`--threads: only 1 is supported (the kernels are single-threaded), got '${o.threads}'`);
  if (!(BUILDS as string[]).includes(o.build)) throw new UsageError(`--build must be one of ${BUILDS.join(', ')}, got '${o.build}'`);
  if (o.vs !== undefined && o.vs !== 'onnxruntime-web') throw new UsageError(`--vs: only onnxruntime-web is supported, got '${o.vs}'`);
  const progress = o.progress; // cli-progress draws only on a terminal

  const bar = progress ? new cliProgress.SingleBar({ format: '{task} {bar} {value}/{total}', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  let models;
  try {
    let started = false;
    models = benchModels(variant, o.cache ? CACHE_DIR : null, (done, total) => {
      if (!started) bar?.start(total, 0, { task: `quantizing ${variant} (calibration frames)` });
      started = true;
      bar?.update(done);
    });
  } finally {
    bar?.stop();
  }

  const builds: KernelBuild[] = o.build === 'both' ? ['simd', 'relaxed'] : [o.build as KernelBuild];
  const runs: BuildRun[] = [];
  for (const build of builds) {
    if (build === 'relaxed' && !relaxedSimdSupported()) {
      if (process.env[CHILD_ENV]) throw new AunetError('NO_RELAXED_SIMD', 'relaxed SIMD is not available in this Node even with --experimental-wasm-relaxed-simd');
      runs.push(await childRun(variant, frames, o));
      continue;
    }
    const kernels = createWasmKernels({ build: build === 'auto' ? undefined : build });
    const { engine } = await loadEngine(models.quantized, { engine: o.engine, kernels });
    const timingBar = progress ? new cliProgress.SingleBar({ format: `timing ${engine.name} {bar} {value}/{total} frames`, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
    timingBar?.start(frames, 0);
    const timing = timeEngine(engine, models.frames, frames, 2, (i) => timingBar?.update(i));
    timingBar?.stop();
    const direct = 'memory' in engine ? (engine as DirectEngine).memory.summary() : undefined;
    runs.push({
      build: kernels.name, engine: engine.name, ...timing,
      memory: direct && { weights: direct.weights, params: direct.params, activations: direct.activations },
      machine: machineInfo(kernels.name),
    });
  }

  const macs = variantMacs(variant);
  const report: BenchReport = { variant, arch: VARIANTS[variant], macs, ...runs[0], builds: runs };
  if (o.vs) {
    const vsBar = progress ? new cliProgress.SingleBar({ format: 'onnxruntime-web {bar} {value}/{total} frames', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
    const n = Math.max(3, Math.min(frames, Math.ceil(frames / 2)));
    vsBar?.start(n, 0);
    const ort = await timeOnnxWeb(models.float, models.frames, n, macs, 3, (i) => vsBar?.update(i));
    vsBar?.stop();
    report.onnxruntimeWeb = { ...ort, ratio: ort.msPerFrame / runs[0].msPerFrame, cpuRatio: ort.cpuMsPerFrame / runs[0].cpuMsPerFrame };
  }
  return report;
}

/** The same bench in a child Node with relaxed SIMD enabled; its JSON report's first run. */
async function childRun(variant: Variant, frames: number, o: Options): Promise<BuildRun> {
  const cli = packageFile('host/cli.ts');
  const args = [
    '--experimental-wasm-relaxed-simd', '--import', 'tsx', cli, 'bench',
    '--model', variant, '--frames', String(frames), '--build', 'relaxed', '--engine', o.engine, '--json',
    ...(o.cache ? [] : ['--no-cache']), ...(o.progress ? [] : ['--no-progress']),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, [CHILD_ENV]: '1' }, cwd: packageFile('.') });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
  if (code !== 0) throw new AunetError('CHILD_FAILED', `the relaxed-SIMD bench (node --experimental-wasm-relaxed-simd) exited with code ${code}`);
  const r = JSON.parse(out) as BenchReport;
  return r.builds[0];
}

function formatReport(r: BenchReport): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(`aunet bench ${r.variant}: F=${r.arch.filters}, ${r.arch.height}x${r.arch.width}x${r.arch.channels}, ${(r.macs / 1e9).toFixed(3)} GMAC/frame`);
  lines.push(`machine: ${m.cpu}, ${m.cores} cores, Node ${m.node} (V8 ${m.v8}), ${m.os}`);
  if (r.memory) {
    const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
    lines.push(`memory: weights ${kb(r.memory.weights)}, params ${kb(r.memory.params)}, activation arena ${kb(r.memory.activations)} (planned once)`);
  }
  const runs = r.builds;
  if (runs[0].layers.length > 0) {
    lines.push('');
    lines.push('per layer, median over frames: wall ms, CPU ms and GMAC per CPU second (CPU time excludes waiting for a core)');
    const head = ['layer', 'kind', 'MMAC', ...runs.flatMap((b) => [`ms ${short(b.build)}`, 'CPU ms', 'GMAC/CPU-s'])];
    const rows = runs[0].layers.map((l, i) => [
      l.name, l.kind, l.macs ? (l.macs / 1e6).toFixed(1) : '',
      ...runs.flatMap((b) => {
        const x = b.layers[i];
        return [x.ms.toFixed(2), x.cpuMs.toFixed(2), x.gmacPerCpuSec === null ? '' : x.gmacPerCpuSec.toFixed(1)];
      }),
    ]);
    lines.push(...table(head, rows));
    lines.push('', 'by kind (sum of medians, CPU ms):');
    for (const b of runs) {
      const byKind = new Map<string, number>();
      for (const l of b.layers) byKind.set(l.kind, (byKind.get(l.kind) ?? 0) + l.cpuMs);
      lines.push(`  ${short(b.build)}: ${[...byKind].map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    }
  }
  lines.push('');
  for (const b of runs) {
    lines.push(`${b.engine}: ${b.frames} frames, median ${b.msPerFrame.toFixed(1)} ms, p90 ${b.p90Ms.toFixed(1)} ms, min ${b.minMs.toFixed(1)} ms, ${b.gmacPerSec.toFixed(1)} GMAC/s` +
      ` (CPU time ${b.cpuMsPerFrame.toFixed(1)} ms/frame, ${b.gmacPerCpuSec.toFixed(1)} GMAC/CPU-s)` +
      (b.cycles === undefined ? '' : `; chip model: ${b.cycles.toLocaleString('en-US')} cycles/frame`));
  }
  const o = r.onnxruntimeWeb;
  if (o) {
    lines.push(`${o.runtime}: ${o.frames} frames, median ${o.msPerFrame.toFixed(1)} ms, p90 ${o.p90Ms.toFixed(1)} ms, ${o.gmacPerSec.toFixed(1)} GMAC/s, CPU time ${o.cpuMsPerFrame.toFixed(1)} ms/frame (ONNX ${(o.onnxBytes / 1e6).toFixed(1)} MB, ${o.layout})`);
    lines.push(`ratio: ${r.builds[0].engine} is ${o.ratio.toFixed(2)}x faster than onnxruntime-web float32 (${o.cpuRatio.toFixed(2)}x in CPU time)`);
  }
  return `${lines.join('\n')}\n`;
}

function short(build: string): string {
  return build.replace(/^wasm-/, '');
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}
