// Kernel-level benchmark: every conv of the seed network (F=32, 256x256x3, from
// models/graph.ts) on random data, per WASM build, best of several runs (the machine
// is shared, so the best run is the least disturbed one). Prints per-layer ms and
// GMAC/s and the conv total, then the element-wise ops and the chip's DMA boxes (copyBox);
// not part of npm test.
// Run: node --import tsx tests/perf/kernels.bench.ts [--runs 3] [--build simd|relaxed] [--layers enc1]
//      node --experimental-wasm-relaxed-simd --import tsx tests/perf/kernels.bench.ts   (adds the relaxed build)
import os from 'node:os';
import { buildGraph, convOps, opMacs } from '../../models/graph.js';
import { quantizeMultiplier } from '../../models/quant-math.js';
import { convLayer } from './conv-layer.js';
import { createWasmKernels, relaxedSimdSupported, type WasmBuild } from '../../host/kernels/wasm-kernels.js';
import { CONV3X3_SCRATCH_BYTES } from '../../host/kernels/kernel-set.js';
import { Rng } from '../host/kernels/rng.js';
import { compile } from '../../host/chip/compiler.js';
import { resolveChipConfig } from '../../host/chip/chip-config.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : def; };
const runs = Number(opt('runs', '3'));
const only = opt('layers', '');
const builds: WasmBuild[] = argv.includes('--build') ? [opt('build', 'simd') as WasmBuild] : relaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd'];
const arch = { filters: Number(opt('filters', '32')), height: Number(opt('size', '256')), width: Number(opt('size', '256')), channels: 3 };
const g = buildGraph(arch);
const convs = convOps(g).filter((op) => op.name.includes(only));

console.log(`kernels.bench: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, ` +
  `F=${arch.filters} ${arch.height}x${arch.width}x${arch.channels}, best of ${runs}, ${new Date().toISOString()}`);

for (const build of builds) {
  const ks = createWasmKernels({ build });
  const scratchBytes = Number(opt('scratch', String(CONV3X3_SCRATCH_BYTES)));
  let totalMacs = 0, totalMs = 0, macs3 = 0, ms3 = 0, cpuMs3 = 0;
  console.log(`\n[${ks.name}]`);
  console.log('layer'.padEnd(14) + 'k s  in(HxWxC)        cout      MMAC     ms   GMAC/s  cpu-ms cpu-GMAC/s');
  for (const op of convs) {
    const i = g.tensors.get(op.input)!;
    const macs = opMacs(op, g.tensors);
    const run = convLayer(ks, g, op, 1, scratchBytes);
    run(); // warm up (tier-up, page faults)
    const reps = Math.max(1, Math.round(2e8 / macs));
    // best wall time and best CPU time (process.cpuUsage: time this thread actually ran,
    // which discounts the moments other jobs on the shared machine held the core)
    let best = Infinity, bestCpu = Infinity;
    for (let r = 0; r < runs; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let k = 0; k < reps; k++) run();
      best = Math.min(best, (performance.now() - t0) / reps);
      const c = process.cpuUsage(c0);
      bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000 / reps);
    }
    cpuMs3 += op.k === 3 ? bestCpu : 0;
    totalMacs += macs; totalMs += best;
    if (op.k === 3) { macs3 += macs; ms3 += best; }
    console.log(`${op.name.padEnd(14)}${op.k} ${op.stride}  ${`${i.h}x${i.w}x${i.c}`.padEnd(16)}${String(op.cout).padStart(6)}` +
      `${(macs / 1e6).toFixed(1).padStart(10)}${best.toFixed(2).padStart(7)}${(macs / best / 1e6).toFixed(1).padStart(9)}` +
      `${bestCpu.toFixed(2).padStart(8)}${(macs / bestCpu / 1e6).toFixed(1).padStart(9)}`);
  }
  console.log(`conv3x3 total: ${(macs3 / 1e9).toFixed(2)} GMAC in ${ms3.toFixed(1)} ms = ${(macs3 / ms3 / 1e6).toFixed(1)} GMAC/s` +
    ` (CPU time ${cpuMs3.toFixed(1)} ms = ${(macs3 / cpuMs3 / 1e6).toFixed(1)} GMAC/s)`);
  console.log(`all convs:     ${(totalMacs / 1e9).toFixed(2)} GMAC in ${totalMs.toFixed(1)} ms = ${(totalMacs / totalMs / 1e6).toFixed(1)} GMAC/s`);
  if (!only) {
    elementwise(ks);
    dmaBoxes(ks);
  }
}

/** Best wall and CPU milliseconds of `run` over `runs` runs, after one warm-up run. */
function bestOf(run: () => void): { best: number; bestCpu: number } {
  run();
  let best = Infinity, bestCpu = Infinity;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage(); const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
    const c = process.cpuUsage(c0); bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000);
  }
  return { best, bestCpu };
}

/** The chip's DMA boxes for this network (default preset), copied in stream order as the chip engine does (copyBox). */
function dmaBoxes(ks: ReturnType<typeof createWasmKernels>): void {
  const program = compile(g, resolveChipConfig('default'));
  const boxes = program.instrs.flatMap((ins) => ('boxes' in ins ? ins.boxes : []));
  ks.ensureHeap(program.regionBytes);
  const bytes = boxes.reduce((n, x) => n + x.n1 * x.n2 * x.len, 0);
  const run = () => { for (const x of boxes) ks.copyBox(x.src, x.dst, x.n1, x.s1, x.d1, x.n2, x.s2, x.d2, x.len); };
  const { best, bestCpu } = bestOf(run);
  console.log(`chip DMA (copyBox): ${boxes.length} boxes, ${(bytes / 1e6).toFixed(1)} MB in ${best.toFixed(2)} ms = ${(bytes / best / 1e6).toFixed(1)} GB/s (cpu ${bestCpu.toFixed(2)} ms)`);
}

/** The element-wise ops of the network, timed per kind (sum over all ops of that kind). */
function elementwise(ks: ReturnType<typeof createWasmKernels>): void {
  const rng = new Rng(2);
  const perKind = new Map<string, { ms: number; cpu: number; values: number }>();
  const big = 4 * Math.max(...[...g.tensors.values()].map((t) => t.h * t.w * t.c));
  ks.ensureHeap(4 * big + 4096);
  new Int8Array(ks.heap, 0, 3 * big).set(rng.int8(3 * big));
  const A = 0, B = big, OUT = 2 * big, P = 3 * big; // P: per-channel params
  const i32 = new Int32Array(ks.heap, P, 1024 * 3);
  for (let c = 0; c < 1024; c++) { const q = quantizeMultiplier(2 ** (-8 - rng.float())); i32[c] = rng.int(-500, 500); i32[1024 + c] = q.multiplier; i32[2048 + c] = q.shift; }
  const q = quantizeMultiplier(0.37);
  for (const op of g.ops) {
    if (op.kind === 'conv') continue;
    const o = g.tensors.get(op.output)!;
    const n = o.h * o.w * o.c;
    let run: () => void;
    switch (op.kind) {
      case 'maxpool': { const i = g.tensors.get(op.input)!; run = () => ks.maxpool2x2(A, i.h, i.w, i.c, OUT); break; }
      case 'upsample': { const i = g.tensors.get(op.input)!; run = () => ks.upsample2x(A, i.h, i.w, i.c, OUT); break; }
      case 'concat': {
        const a = g.tensors.get(op.inputs[0])!, b = g.tensors.get(op.inputs[1])!;
        run = () => { ks.requantCopy(A, a.h * a.w, a.c, 3, q.multiplier, q.shift, -2, OUT, o.c); ks.requantCopy(B, b.h * b.w, b.c, 3, q.multiplier, q.shift, -2, OUT + a.c, o.c); };
        break;
      }
      case 'add': run = () => ks.add(A, B, n, 3, -7, 20, 1 << 30, 0, 1 << 30, -1, q.multiplier, q.shift - 20, 0, -128, 127, OUT); break;
      case 'sigmoid': run = () => ks.lut(A, n, B, OUT); break;
      case 'gatemul': run = () => ks.gateMul(A, B, o.h, o.w, o.c, 3, q.multiplier, q.shift - 8, 0, -128, 127, OUT); break;
      case 'affine': run = () => ks.affine(A, o.h * o.w, o.c, 3, B, P, P + 4096, P + 8192, 0, -128, 127, OUT); break;
    }
    const { best, bestCpu } = bestOf(run);
    const k = perKind.get(op.kind) ?? { ms: 0, cpu: 0, values: 0 };
    perKind.set(op.kind, { ms: k.ms + best, cpu: k.cpu + bestCpu, values: k.values + n });
  }
  console.log('element-wise ops (sum over the network):');
  let total = 0, totalCpu = 0;
  for (const [kind, v] of perKind) {
    total += v.ms; totalCpu += v.cpu;
    console.log(`  ${kind.padEnd(10)}${(v.values / 1e6).toFixed(2).padStart(7)} M values ${v.ms.toFixed(2).padStart(7)} ms  (cpu ${v.cpu.toFixed(2)} ms)`);
  }
  console.log(`  total     ${total.toFixed(2).padStart(26)} ms  (cpu ${totalCpu.toFixed(2)} ms)`);
}

