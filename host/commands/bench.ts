// `aunet bench`: whole-network speed of the int8 engines on the bench variants
// (seed = F 32 256x256x3, mid = F 16 256x256x1, lite = F 8 128x128x1), with a
// per-layer profile, both kernel builds, and onnxruntime (web and node, float32 and int8)
// side by side.
// The builds and thread counts timed in this process run together, frame by frame in turn, so
// that their ratios compare the same minutes of a shared machine whose speed drifts.
// Relaxed SIMD needs --experimental-wasm-relaxed-simd on Node 20: when this
// process lacks it, the relaxed run happens in a child Node started with it.
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import cliProgress from 'cli-progress';
import { AunetError, UsageError } from '../../common/errors.js';
import {
  DEFAULT_FRAMES, VARIANTS, VARIANT_NAMES, WARMUP_MS, benchModels, machineInfo, machineLine, timeEngines, variantMacs,
  type MachineInfo, type Timing, type Variant,
} from '../bench/network.js';
import { hostScaling } from '../bench/host-scaling.js';
import { PEERS, peerModel, timePeer, type Peer, type PeerPrecision, type PeerTiming } from '../bench/onnx-peers.js';
import type { DirectEngine } from '../engine/direct-executor.js';
import type { Engine } from '../engine/engine.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import { createWasmKernels, relaxedSimdSupported } from '../kernels/wasm-kernels.js';
import { createThreadedKernels, type ThreadedKernelSet } from '../kernels/threaded-kernels.js';
import { defaultThreads, MAX_THREADS } from '../../common/thread-count.js';
import { loadEngine } from '../load/engine-loader.js';
import { engineOption } from './support/engine-options.js';
import { parseInteger, parseNumber } from '../../common/cli-args.js';
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
  warmup?: string;
  threads?: string;
  json?: boolean;
  build: string;
  engine: string;
  vs?: string;
  cache: boolean;
  progress: boolean;
}

/** One timed run of one kernel build. */
export interface BuildRun extends Timing {
  /** the KernelSet timed: 'wasm-simd', 'wasm-relaxed-simd' or 'wasm-simd-threads' */
  build: string;
  /** threads that ran kernels */
  threads: number;
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
  /** --vs: each peer at float32 and int8 and each thread count; ratio = the peer's median ms / ours at the same thread count, cpuRatio the same over CPU time */
  peers?: (PeerTiming & { ratio: number; cpuRatio: number })[];
  /** with more than one thread timed: the work that many independent single-thread engines did at once, in units of one alone, before and after the runs (host/bench/host-scaling.ts) */
  hostScaling?: { threads: number; before: number; after: number };
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('benchmark the int8 engines and kernel builds on a bench variant (per-layer and whole-frame figures)')
    .option('--model <variant>', `bench variant: ${VARIANT_NAMES.join(' | ')}`, 'seed')
    .option('--frames <n>', `timed frames (default ${Object.entries(DEFAULT_FRAMES).map(([k, v]) => `${k} ${v}`).join(', ')})`)
    .option('--warmup <seconds>', `seconds each engine runs untimed first, at least (default ${WARMUP_MS / 1000}: V8 is still optimising the engine's JavaScript over its first frames)`)
    .option('--threads <list>', 'threads that run the kernels, comma-separated, each timed (e.g. 1,2; default: AUNET_THREADS, else one per core)')
    .option('--json', 'print one JSON object instead of tables')
    .option('--build <build>', `kernel build: ${BUILDS.join(' | ')} (both = plain SIMD and relaxed SIMD)`, 'auto')
    .addOption(engineOption(undefined, 'direct'))
    .option('--vs <runtimes>', `also run the network in onnxruntime, float32 and int8 (QDQ), and print the ratios: ${PEERS.join(',')}`)
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
  const warmupMs = o.warmup === undefined ? WARMUP_MS : 1000 * parseNumber(o.warmup, '--warmup', { min: 0 });
  const threads = o.threads === undefined ? [defaultThreads()] : o.threads.split(',').map((t) => parseInteger(t, '--threads', { min: 1, max: MAX_THREADS }));
  if (o.build === 'relaxed' && threads.some((t) => t > 1)) throw new UsageError('--threads above 1 runs the plain-SIMD threaded module; the relaxed build is single-threaded (--build simd or auto)');
  if (!(BUILDS as string[]).includes(o.build)) throw new UsageError(`--build must be one of ${BUILDS.join(', ')}, got '${o.build}'`);
  const peers = o.vs === undefined ? [] : o.vs.split(',');
  for (const p of peers) if (!(PEERS as readonly string[]).includes(p)) throw new UsageError(`--vs: runtimes are ${PEERS.join(', ')} (comma-separated), got '${p}'`);
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
  const most = Math.max(...threads);
  const ceilingBefore = most > 1 ? await hostScaling(most) : 0;
  const plan = threads.flatMap((n) => (n === 1 ? builds : ['simd' as const]).map((build) => ({ build, n })));
  // the in-process engines are timed together, frames interleaved (timeEngines); a relaxed build this
  // Node cannot run goes to a child process afterwards, timed on its own
  const inChild = (p: (typeof plan)[number]) => p.build === 'relaxed' && !relaxedSimdSupported();
  if (process.env[CHILD_ENV] && plan.some(inChild)) throw new AunetError('NO_RELAXED_SIMD', 'relaxed SIMD is not available in this Node even with --experimental-wasm-relaxed-simd');
  const timed = new Map<(typeof plan)[number], BuildRun>();
  const here: { p: (typeof plan)[number]; kernels: KernelSet | ThreadedKernelSet; engine: Engine }[] = [];
  try {
    for (const p of plan.filter((q) => !inChild(q))) {
      const kernels = p.n > 1 ? await createThreadedKernels({ threads: p.n }) : createWasmKernels({ build: p.build === 'auto' ? undefined : p.build });
      here.push({ p, kernels, engine: (await loadEngine(models.quantized, { engine: o.engine, kernels })).engine });
    }
    const timingBar = progress && here.length ? new cliProgress.SingleBar({ format: `timing ${here.map((h) => h.engine.name).join(', ')} {bar} {value}/{total} frames`, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
    timingBar?.start(frames, 0);
    const timings = timeEngines(here.map((h) => h.engine), models.frames, frames, 2, (i) => timingBar?.update(i), warmupMs);
    timingBar?.stop();
    here.forEach(({ p, kernels, engine }, k) => {
      const direct = 'memory' in engine ? (engine as DirectEngine).memory.summary() : undefined;
      timed.set(p, {
        build: kernels.name, threads: p.n, engine: engine.name, ...timings[k],
        memory: direct && { weights: direct.weights, params: direct.params, activations: direct.activations },
        machine: machineInfo(kernels.name),
      });
    });
  } finally {
    for (const { kernels } of here) if ('close' in kernels) await kernels.close();
  }
  const runs: BuildRun[] = [];
  for (const p of plan) runs.push(timed.get(p) ?? (await childRun(variant, frames, o)));

  const macs = variantMacs(variant);
  const report: BenchReport = { variant, arch: VARIANTS[variant], macs, ...runs[0], builds: runs };
  if (most > 1) report.hostScaling = { threads: most, before: ceilingBefore, after: await hostScaling(most) };
  if (peers.length) {
    report.peers = [];
    const n = Math.max(3, Math.min(frames, Math.ceil(frames / 2)));
    for (const precision of ['float32', 'int8'] as PeerPrecision[]) {
      const model = await peerModel(precision, models.float, models.quantized);
      // each peer's timings at every thread count (in the order of `threads`), printed by thread count, then peer
      const byPeer: PeerTiming[][] = [];
      for (const peer of peers as Peer[]) {
        const vsBar = progress ? new cliProgress.SingleBar({ format: `${peer} ${precision} ${threads.join(',')} thread(s) {bar} {value}/{total} frames`, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
        vsBar?.start(n, 0);
        byPeer.push(await timePeer(peer, precision, threads, model, models.arch, models.frames, n, macs, 3, (i) => vsBar?.update(i)));
        vsBar?.stop();
      }
      for (const [k, t] of threads.entries()) {
        const ours = runs.find((r) => r.threads === t)!;
        for (const timings of byPeer) {
          const p = timings[k];
          report.peers.push({ ...p, ratio: p.msPerFrame / ours.msPerFrame, cpuRatio: p.cpuMsPerFrame / ours.cpuMsPerFrame });
        }
      }
    }
  }
  return report;
}

/** The same bench in a child Node with relaxed SIMD enabled; its JSON report's first run. */
async function childRun(variant: Variant, frames: number, o: Options): Promise<BuildRun> {
  const cli = packageFile('host/cli.ts');
  const args = [
    '--experimental-wasm-relaxed-simd', '--import', 'tsx', cli, 'bench',
    '--model', variant, '--frames', String(frames), ...(o.warmup === undefined ? [] : ['--warmup', o.warmup]), '--build', 'relaxed', '--threads', '1', '--engine', o.engine, '--json',
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
  lines.push(`aunet bench ${r.variant}: F=${r.arch.filters}, ${r.arch.height}x${r.arch.width}x${r.arch.channels}, ${(r.macs / 1e9).toFixed(3)} GMAC/frame`);
  lines.push(`machine: ${machineLine(r.machine)}`);
  if (r.memory) {
    const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
    lines.push(`memory: weights ${kb(r.memory.weights)}, params ${kb(r.memory.params)}, activation arena ${kb(r.memory.activations)} (planned once)`);
  }
  const runs = r.builds;
  if (runs[0].layers.length > 0) {
    lines.push('');
    lines.push('per layer, median over frames: wall ms, CPU ms and GMAC per CPU second (CPU time excludes waiting for a core)');
    const head = ['layer', 'kind', 'MMAC', ...runs.flatMap((b) => [`ms ${label(b)}`, 'CPU ms', 'GMAC/CPU-s'])];
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
      lines.push(`  ${label(b)}: ${[...byKind].map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    }
  }
  lines.push('');
  for (const b of runs) {
    lines.push(`${b.engine}, ${b.threads} thread${b.threads === 1 ? '' : 's'}: ${b.frames} frames after ${b.warmup.frames} warm-up (${(b.warmup.ms / 1000).toFixed(1)} s), median ${b.msPerFrame.toFixed(1)} ms, p90 ${b.p90Ms.toFixed(1)} ms, min ${b.minMs.toFixed(1)} ms, ${b.gmacPerSec.toFixed(1)} GMAC/s` +
      ` (CPU time ${b.cpuMsPerFrame.toFixed(1)} ms/frame, ${b.gmacPerCpuSec.toFixed(1)} GMAC/CPU-s)` +
      (b.cycles === undefined ? '' : `; chip model: ${b.cycles.toLocaleString('en-US')} cycles/frame`));
  }
  const one = runs.find((b) => b.threads === 1);
  // ours at b's threads over one thread, median ms and fastest frames: each printed twice below, one figure
  const oursOverOne = (b: BuildRun) => (one!.msPerFrame / b.msPerFrame).toFixed(2);
  const oursFastestOverOne = (b: BuildRun) => (one!.minMs / b.minMs).toFixed(2);
  for (const b of runs) {
    // the fastest frames too: on a shared host (a VM whose cores a neighbour takes for seconds) the
    // medians of a few frames swing with it, and the runs alternate, so both saw the same minutes
    if (one && b.threads > 1) lines.push(`${b.threads} threads: ${oursOverOne(b)}x one thread (median ms), ${oursFastestOverOne(b)}x (fastest frame of each), ${(one.cpuMsPerFrame / b.cpuMsPerFrame).toFixed(2)}x in CPU time per frame`);
  }
  const h = r.hostScaling;
  if (h) lines.push(`this machine's ceiling: ${h.threads} independent single-thread engines at once did ${h.before.toFixed(2)}x (before the runs) and ${h.after.toFixed(2)}x (after) the work of one alone`);
  for (const o of r.peers ?? []) {
    lines.push(`${o.runtime}: ${o.frames} frames${o.timedWith ? ` alternated with its ${o.timedWith.filter((t) => t !== o.threads).join(', ')}-thread session${o.timedWith.length > 2 ? 's' : ''}` : ''}, median ${o.msPerFrame.toFixed(1)} ms, p90 ${o.p90Ms.toFixed(1)} ms, min ${o.minMs.toFixed(1)} ms, ${o.gmacPerSec.toFixed(1)} GMAC/s, CPU time ${o.cpuMsPerFrame.toFixed(1)} ms/frame (ONNX ${(o.onnxBytes / 1e6).toFixed(1)} MB)` +
      `; ours at ${o.threads} thread${o.threads === 1 ? '' : 's'} is ${o.ratio.toFixed(2)}x faster (${o.cpuRatio.toFixed(2)}x in CPU time)`);
  }
  // each runtime's own gain from threads, measured in this run: how well ours scales reads against
  // its peers' on the same host at the same time, not against a figure from another day
  for (const b of runs) {
    if (!one || b.threads === 1) continue;
    const peerScaling = (of: (p: PeerTiming) => number) => (r.peers ?? []).flatMap((o) => {
      if (o.threads !== b.threads) return [];
      const single = r.peers!.find((x) => x.peer === o.peer && x.precision === o.precision && x.threads === 1);
      return single ? [`${o.peer} ${o.precision} ${(of(single) / of(o)).toFixed(2)}x`] : [];
    });
    if (!r.peers?.some((o) => o.threads === b.threads)) continue;
    lines.push(`${b.threads} threads over 1, median ms: ours ${oursOverOne(b)}x; ${peerScaling((p) => p.msPerFrame).join(', ')}`);
    lines.push(`${b.threads} threads over 1, fastest frames: ours ${oursFastestOverOne(b)}x; ${peerScaling((p) => p.minMs).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function label(b: BuildRun): string {
  return `${b.build.replace(/^wasm-/, '').replace(/-threads$/, '')}${b.threads > 1 ? ` x${b.threads}` : ''}`;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}
