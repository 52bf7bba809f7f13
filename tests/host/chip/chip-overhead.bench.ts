// Benchmark (not a test): wall time per frame of the chip engine against the
// direct executor on the same model, kernels and frames. Run:
//   node --import tsx tests/host/chip/chip-overhead.bench.ts [seed|mid|lite|FILE.aunet] [frames] [preset] [threads]
// (a bench variant is a random model of that shape; a .aunet file is that model, e.g. the shipped
// models/busi-lite.aunet, which `aunet run` runs)
// Prints both medians and the overhead; docs/benchmarks.md records the figures. With threads
// > 1 (threaded kernels) the chip's layers first choose how they run (host/chip/layer-choice.ts:
// the warm-up frames below), and it also times the chip with every kernel call divided, and with
// the tiles of every layer that can spread them spread over the threads (tile-scheduler.ts). It also
// times the chip with each channel group of a grouped conv computed on its own (group-ahead.ts off).
import os from 'node:os';
import { VARIANTS, VARIANT_NAMES, WARMUP_MS, type Variant } from '../../../host/bench/network.js';
import { loadModel } from '../../../host/load/model-loader.js';
import { createWasmKernels } from '../../../host/kernels/wasm-kernels.js';
import { createThreadedKernels } from '../../../host/kernels/threaded-kernels.js';
import { createDirectEngine } from '../../../host/engine/direct-executor.js';
import { createChipEngine } from '../../../host/chip/chip-engine.js';
import { randomQModel } from '../../../models/random-qmodel.js';
import { syntheticFrames } from '../../../models/random-model.js';

const variant = process.argv[2] ?? 'seed';
const frames = Number(process.argv[3] ?? 6);
const preset = process.argv[4] ?? 'default';
const threads = Number(process.argv[5] ?? 1);
const isFile = variant.endsWith('.aunet');
if (!isFile && !VARIANT_NAMES.includes(variant as Variant)) {
  console.error(`chip-overhead.bench: the model must be a bench variant (${VARIANT_NAMES.join(', ')}) or a .aunet file, got ${variant}`);
  process.exit(2);
}
const model = isFile ? (await loadModel(variant)).model : randomQModel({ ...VARIANTS[variant as Variant] }, { seed: 7 });
const arch = model.arch;
const kernels = threads > 1 ? await createThreadedKernels({ threads }) : createWasmKernels();
const direct = createDirectEngine(model, kernels);
const t0 = performance.now();
const chip = createChipEngine(model, kernels, { chip: preset });
const loadMs = performance.now() - t0;
const divided = threads > 1 ? createChipEngine(model, kernels, { chip: preset, spreadTiles: false }) : null;
const allSpread = threads > 1 ? createChipEngine(model, kernels, { chip: preset, spreadTiles: true }) : null;
const perGroup = chip.machine.aheadLayers ? createChipEngine(model, kernels, { chip: preset, groupsAhead: false }) : null;
const inputs = syntheticFrames(arch, 2, 3);

const same = (() => {
  const a = direct.run(inputs[0]);
  return [chip, divided, allSpread, perGroup].every((e) => {
    if (!e) return true;
    const b = e.run(inputs[0]);
    return Buffer.compare(a.prob.data, b.prob.data) === 0 && a.attention.every((m, i) => Buffer.compare(m.data, b.attention[i].data) === 0);
  });
})();
const engines = [['direct', direct], ['chip', chip], ...(divided ? [['chip, calls divided', divided] as const, ['chip, tiles spread', allSpread!] as const] : []), ...(perGroup ? [['chip, groups one by one', perGroup] as const] : [])] as const;
// the warm-up: the code reaches its optimised tier (as long per engine as `aunet bench` gives one:
// WARMUP_MS), and the chip's layers time their two ways and choose (layer-choice.ts)
const warmUntil = performance.now() + WARMUP_MS * engines.length;
for (let i = 0; i < 10 || performance.now() < warmUntil || engines.some(([, e]) => (e.tuningFrames ?? 0) > 0); i++) for (const [, e] of engines) e.run(inputs[i % inputs.length]);
const times: Record<string, number[]> = Object.fromEntries(engines.map(([n]) => [n, []]));
// CPU time of this process (user + system) discounts the time other jobs hold the cores
// (with threads, CPU time is every thread's: the cost, not the latency)
const cpu: Record<string, number[]> = Object.fromEntries(engines.map(([n]) => [n, []]));
for (let i = 0; i < frames; i++) {
  // alternate so that machine load drifts hit both engines alike
  for (const [name, e] of engines) {
    const s = performance.now();
    const c0 = process.cpuUsage();
    e.run(inputs[i % inputs.length]);
    const c1 = process.cpuUsage(c0);
    times[name].push(performance.now() - s);
    cpu[name].push((c1.user + c1.system) / 1000);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const d = median(times.direct);
const c = median(times.chip);
const tiles = chip.program.layers.reduce((s, l) => s + l.tiling.tiles, 0);
console.log(`${variant} F=${arch.filters} ${arch.width}x${arch.height}x${arch.channels}, kernels ${kernels.name} x${threads}, preset ${preset} (${chip.program.instrs.length} instructions, ${tiles} tiles, ${chip.machine.spreadLayers} of ${chip.program.layers.length} layers can spread their tiles over the threads, ${chip.machine.aheadLayers} convs done a layer at a time: channel-grouped, or row tiles cutting the Winograd tiles), ${frames} frames each`);
console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, Node ${process.version}, ${new Date().toISOString()}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`chip load (compile + timing + params): ${loadMs.toFixed(0)} ms; outputs identical: ${same}`);
if (threads > 1) {
  const w = chip.machine.layerWays();
  console.log(`layers that can spread their tiles, as they chose after the warm-up: ${w.spread} spread, ${w.inOrder} in order with each call divided${w.timing ? `, ${w.timing} still timing` : ''}`);
}
const dc = median(cpu.direct);
const cc = median(cpu.chip);
console.log(`CPU time: direct median ${dc.toFixed(1)} ms/frame, chip median ${cc.toFixed(1)} ms/frame, overhead ${(100 * (cc / dc - 1)).toFixed(1)}%`);
console.log(`wall: direct median ${d.toFixed(1)} ms/frame (min ${Math.min(...times.direct).toFixed(1)}), chip median ${c.toFixed(1)} ms/frame (min ${Math.min(...times.chip).toFixed(1)}), overhead ${(100 * (c / d - 1)).toFixed(1)}% (min-to-min ${(100 * (Math.min(...times.chip) / Math.min(...times.direct) - 1)).toFixed(1)}%)`);
if (divided) {
  const v = median(times['chip, calls divided']);
  console.log(`chip with every call divided instead: wall median ${v.toFixed(1)} ms/frame (${(100 * (v / d - 1)).toFixed(1)}% over direct), CPU ${median(cpu['chip, calls divided']).toFixed(1)} ms/frame`);
}
if (allSpread) {
  const v = median(times['chip, tiles spread']);
  console.log(`chip with every layer's tiles spread that can be (no choice): wall median ${v.toFixed(1)} ms/frame (${(100 * (v / d - 1)).toFixed(1)}% over direct), CPU ${median(cpu['chip, tiles spread']).toFixed(1)} ms/frame`);
}
if (perGroup) {
  const v = median(times['chip, groups one by one']);
  console.log(`chip with each channel group computed on its own instead: wall median ${v.toFixed(1)} ms/frame (${(100 * (v / d - 1)).toFixed(1)}% over direct), CPU ${median(cpu['chip, groups one by one']).toFixed(1)} ms/frame`);
}
if ('close' in kernels) await kernels.close();
