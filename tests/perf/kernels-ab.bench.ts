// A/B of the conv kernels in one process: a baseline module (e.g. main's build, copied aside)
// against this checkout's build/kernels.simd.wasm, each layer alternating between the two, min
// of N runs each, so a shared machine's load hits both alike. Prints per-layer ms, GMAC/s and
// the ratio, per layer kind and for all convs, with the CPU model and the load average.
// Not part of npm test.
// Run: node --import tsx tests/perf/kernels-ab.bench.ts --baseline DIR/kernels.simd.wasm [--direct-layout]
//        [--arch seed|busi-lite] [--runs 7] [--layers NAME]
// --direct-layout: the baseline packs every 3x3 conv in the direct layout (modules built before
// stride-1 convs ran as Winograd, i.e. before 2026-11-29).
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseInteger } from '../../common/cli-args.js';
import { machineLine } from '../../host/bench/network.js';
import { buildGraph, convOps, opMacs } from '../../models/graph.js';
import { convLayer } from './conv-layer.js';
import { createWasmKernels } from '../../host/kernels/wasm-kernels.js';
import { packConvWeights, packedConvWeightBytes } from '../../host/kernels/weight-packing.js';
import type { KernelSet } from '../../host/kernels/kernel-set.js';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string', default: '' },
    'direct-layout': { type: 'boolean', default: false },
    arch: { type: 'string', default: 'seed' },
    runs: { type: 'string', default: '7' },
    layers: { type: 'string', default: '' },
  },
});
const baseline = values.baseline;
if (!baseline) throw new Error('--baseline FILE.wasm is required (a copy of the module to compare with)');
const arch = values.arch === 'seed' ? { filters: 32, height: 256, width: 256, channels: 3 } : { filters: 16, height: 128, width: 128, channels: 1 };
const runs = parseInteger(values.runs, '--runs', { min: 1 });
const g = buildGraph(arch);
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

const base = createWasmKernels({ bytes: readFileSync(baseline) });
const old: KernelSet = !values['direct-layout'] ? base : {
  ...base,
  get heap() { return base.heap; },
  ensureHeap: (bytes: number) => base.ensureHeap(bytes),
  convWeightBytes: (k: 1 | 3, cin: number) => packedConvWeightBytes(k, cin, 2),
  packConvWeights: (k: 1 | 3, cin: number, cout: number, ohwi: Int8Array, dst: number) => packConvWeights(base.heap, base.heap.byteLength, k, cin, cout, ohwi, dst, 2),
};
const cur = createWasmKernels({ build: 'simd' });
console.log(`kernels-ab: ${machineLine()}, load ${load()}, ${new Date().toISOString()}`);
console.log(`F=${arch.filters} ${arch.height}x${arch.width}x${arch.channels}; baseline ${baseline} vs build/kernels.simd.wasm; min of ${runs}, alternating`);
let tOld = 0, tNew = 0;
const kinds = new Map<string, { macs: number; old: number; cur: number }>();
for (const op of convOps(g).filter((o) => o.name.includes(values.layers))) {
  const macs = opMacs(op, g.tensors);
  const a = convLayer(old, g, op), b = convLayer(cur, g, op);
  a(); b(); // tier-up, page faults
  const reps = Math.max(1, Math.round(5e7 / macs));
  let bo = Infinity, bn = Infinity;
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    for (let k = 0; k < reps; k++) a();
    bo = Math.min(bo, (performance.now() - t) / reps);
    t = performance.now();
    for (let k = 0; k < reps; k++) b();
    bn = Math.min(bn, (performance.now() - t) / reps);
  }
  tOld += bo; tNew += bn;
  const kind = `${op.k}x${op.k} stride ${op.stride}${op.k === 3 && op.cin < 8 ? ', cin < 8' : ''}`;
  const e = kinds.get(kind) ?? { macs: 0, old: 0, cur: 0 };
  kinds.set(kind, { macs: e.macs + macs, old: e.old + bo, cur: e.cur + bn });
  const i = g.tensors.get(op.input)!;
  console.log(`${op.name.padEnd(12)} ${op.k} ${op.stride} ${`${i.h}x${i.w}x${i.c}`.padEnd(12)}-> ${String(op.cout).padEnd(4)}` +
    ` baseline ${bo.toFixed(2).padStart(7)} ms ${(macs / bo / 1e6).toFixed(1).padStart(5)} GMAC/s   now ${bn.toFixed(2).padStart(7)} ms ${(macs / bn / 1e6).toFixed(1).padStart(5)}   x${(bo / bn).toFixed(2)}`);
}
for (const [k, e] of kinds) console.log(`${k.padEnd(20)} baseline ${(e.macs / e.old / 1e6).toFixed(1)} GMAC/s, now ${(e.macs / e.cur / 1e6).toFixed(1)} GMAC/s, x${(e.old / e.cur).toFixed(2)}`);
console.log(`all convs: baseline ${tOld.toFixed(1)} ms, now ${tNew.toFixed(1)} ms, x${(tOld / tNew).toFixed(2)}; load ${load()}`);
