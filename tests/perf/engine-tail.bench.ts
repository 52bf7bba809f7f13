// Benchmark (on demand, not part of npm test): where the engine's slow frames come from on this
// host. The model alone, no pipeline around it, paced at the source's frame rate as `aunet run`
// feeds it, on the direct engine at N kernel threads and at 1 thread, interleaved frame by frame
// so both see the same minutes, with a per-layer profile of every frame. For the frames over the
// period it says which kind of slow they are:
//   - a stall: one layer took most of the frame's excess — at N threads, a thread held up while
//     it ran a part of that layer, which the others then wait for (the OS gave its core to
//     another thread, or the hypervisor took the virtual CPU away); nothing the engine's own
//     work decides;
//   - spread: the excess is over many layers — the machine itself ran slower for a while
//     (caches and memory shared with other tenants, the clock).
// Whether or not frames overran, the slowest fifth of frames is set against the fastest fifth
// layer by layer: every layer slower by about the frame's own factor means the host ran the whole
// frame slower (at 1 thread too: nothing the division over threads decides); a few layers
// carrying the difference mean stalls. A plain integer loop timed after each frame (no memory
// traffic) says whether the core itself was slow. Printed with the CPU model, the date and the
// load average before and after.
//   node --import tsx tests/perf/engine-tail.bench.ts [--frames 300] [--threads N] [--fps 30] [--model FILE]
import { loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseInteger, parseNumber } from '../../common/cli-args.js';
import { defaultThreads } from '../../common/thread-count.js';
import { loadModel } from '../../host/load/model-loader.js';
import { loadEngine } from '../../host/load/engine-loader.js';
import type { DirectEngine } from '../../host/engine/direct-executor.js';
import { machineLine, median, quantile } from '../../host/bench/network.js';
import { LatencyWindow } from '../../host/pipeline/stats.js';
import { syntheticFrames } from '../../models/random-model.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '300' },
    threads: { type: 'string' },
    fps: { type: 'string', default: '30' },
    model: { type: 'string' },
  },
});
const frames = parseInteger(values.frames, '--frames', { min: 10, max: 100_000 });
const threads = values.threads ? parseInteger(values.threads, '--threads', { min: 2, max: 64 }) : Math.max(2, defaultThreads());
const period = 1000 / parseNumber(values.fps, '--fps', { above: 0 });
const modelFile = values.model ?? (existsSync('models/busi-lite.aunet') ? 'models/busi-lite.aunet' : 'random:F8x128');
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

console.log(`${machineLine()}\n${new Date().toISOString()}, load ${load()}`);
const { model } = await loadModel(modelFile);
const input = syntheticFrames(model.arch, 2, 1);
const runs = await Promise.all([threads, 1].map(async (t) => {
  const choice = await loadEngine(model, { engine: 'direct', threads: t });
  const engine = choice.engine as DirectEngine;
  return { threads: t, engine, close: choice.close, frameMs: [] as number[], layerMs: [] as Float64Array[] };
}));
const steps = runs[0].engine.steps;
for (const r of runs) for (let i = 0; i < 30; i++) r.engine.run(input[i & 1]);

const coreMs: number[] = [];
let sink = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
for (let f = 0; f < frames; f++) {
  for (const r of runs) {
    const start = performance.now();
    const layers = new Float64Array(steps.length);
    r.engine.runProfiled(input[f & 1], layers);
    r.frameMs.push(performance.now() - start);
    r.layerMs.push(layers);
    const left = period - (performance.now() - start);
    if (left > 0) await sleep(left);
  }
  const t0 = performance.now();
  let x = f;
  for (let k = 0; k < 2_000_000; k++) x = (x * 1103515245 + 12345) | 0;
  sink ^= x;
  coreMs.push(performance.now() - t0);
}

const ms = (v: number) => v.toFixed(1).padStart(5);
console.log(`${modelFile}, direct engine, ${frames} frames each at ${(1000 / period).toFixed(0)} fps, interleaved; period ${period.toFixed(1)} ms`);
for (const r of runs) {
  const layerMedian = steps.map((_, k) => median(r.layerMs.map((l) => l[k])));
  const medianSum = layerMedian.reduce((a, b) => a + b, 0);
  let stalls = 0, spread = 0;
  const stalledLayers = new Map<string, number>();
  r.layerMs.forEach((l, f) => {
    if (r.frameMs[f] <= period) return;
    const excess = l.map((v, k) => v - layerMedian[k]);
    const total = excess.reduce((a, b) => a + Math.max(0, b), 0);
    const worst = excess.reduce((best, v, k) => (v > excess[best] ? k : best), 0);
    if (excess[worst] > 0.5 * total) {
      stalls++;
      stalledLayers.set(steps[worst].name, (stalledLayers.get(steps[worst].name) ?? 0) + 1);
    } else spread++;
  });
  const f = r.frameMs;
  // p50 / p99 / max as the pipeline's stats and pipeline.bench.ts's engine-alone peer take them (nearest rank)
  const p = LatencyWindow.of(f)!;
  console.log(`${r.threads} thread${r.threads > 1 ? 's' : ' '}: p50 ${ms(p.p50)} p90 ${ms(quantile(f, 0.9))} p99 ${ms(p.p99)} max ${ms(p.max)} ms (layer medians sum ${medianSum.toFixed(1)});`
    + ` over the period ${stalls + spread} of ${f.length}: ${stalls} a stall in one layer, ${spread} spread over layers`
    + (stalls ? ` (stalled: ${[...stalledLayers].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([n, c]) => `${n} ${c}`).join(', ')})` : ''));
  // slowest fifth against fastest fifth, layer by layer (medians of each fifth)
  const order = f.map((_, i) => i).sort((a, b) => f[a] - f[b]);
  const fifth = Math.max(1, Math.floor(f.length / 5));
  const fast = order.slice(0, fifth), slow = order.slice(-fifth);
  const fastLayer = steps.map((_, k) => median(fast.map((i) => r.layerMs[i][k])));
  const slowLayer = steps.map((_, k) => median(slow.map((i) => r.layerMs[i][k])));
  const frameFactor = median(slow.map((i) => f[i])) / median(fast.map((i) => f[i]));
  // how evenly the difference lies: each layer's own factor (layers of 0.5 % of the frame or more),
  // and the layer that carries most of it
  const fastSum = fastLayer.reduce((a, b) => a + b, 0);
  const excess = steps.map((s, k) => ({ name: s.name, add: slowLayer[k] - fastLayer[k], factor: slowLayer[k] / Math.max(1e-6, fastLayer[k]), ms: fastLayer[k] }));
  const total = excess.reduce((a, x) => a + Math.max(0, x.add), 0);
  const big = excess.filter((x) => x.ms >= 0.005 * fastSum).map((x) => x.factor).sort((a, b) => a - b);
  const top = [...excess].sort((a, b) => b.add - a.add)[0];
  console.log(`  slowest fifth / fastest fifth: frame ${frameFactor.toFixed(2)}x; layers (those over 0.5 % of the frame) ${quantile(big, 0.1).toFixed(2)}-${quantile(big, 0.9).toFixed(2)}x (10th-90th percentile); the largest share of the difference ${top.name} ${total > 0 ? ((100 * top.add) / total).toFixed(0) : 0} %`
    + ` (${(100 * top.ms / fastSum).toFixed(0)} % of a fast frame's time)`);
}
console.log(`plain integer loop after each frame: p50 ${quantile(coreMs, 0.5).toFixed(2)} p99 ${quantile(coreMs, 0.99).toFixed(2)} ms (${sink & 1 ? 'odd' : 'even'})`);
console.log(`load ${load()}, ${new Date().toISOString()}`);
for (const r of runs) await r.close();
process.exit(0);
