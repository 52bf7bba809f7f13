// conv3x3 under two WebAssembly engines in one run: V8 (this Node) and Wasmtime (Cranelift,
// the `wasmtime` Python package), each conv of the seed network (F 32, 256x256x3) on the same
// random data in the same memory. Wasmtime runs the plain-SIMD module and the relaxed-SIMD
// module (Wasmtime needs no flag for relaxed SIMD). Best of N per layer; prints the machine,
// the load average and a table. Not part of npm test.
// Run: node --import tsx tests/perf/wasmtime.bench.ts [--runs 5] [--layers dec]
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { buildGraph, convOps, opMacs } from '../../models/graph.js';
import { createWasmKernels, type WasmBuild } from '../../host/kernels/wasm-kernels.js';
import { recordKernels, timeInWasmtime, PYTHON } from '../host/kernels/wasmtime/trace.js';
import { convLayer } from './conv-layer.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : def; };
const runs = Number(opt('runs', '5'));
const only = opt('layers', '');
const g = buildGraph({ filters: 32, height: 256, width: 256, channels: 3 });
const convs = convOps(g).filter((op) => op.k === 3 && op.name.includes(only));
const WASMTIME: WasmBuild[] = ['simd', 'relaxed'];

const wasmtimeVersion = execFileSync(PYTHON, ['-c', 'import importlib.metadata as m; print(m.version("wasmtime"))']).toString().trim();
console.log(`wasmtime.bench: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ` +
  `Node ${process.version} (V8 ${process.versions.v8}), wasmtime ${wasmtimeVersion} (Python), best of ${runs}, ${new Date().toISOString()}`);
console.log(`${'layer'.padEnd(14)}${'MMAC'.padStart(8)}  ${'V8 simd ms'.padStart(11)} ${'GMAC/s'.padStart(7)}  ${WASMTIME.map((b) => `${`wasmtime ${b} ms`.padStart(20)} ${'GMAC/s'.padStart(7)}`).join('  ')}`);

const totals = { v8: 0, simd: 0, relaxed: 0 } as Record<string, number>;
let macsTotal = 0;
for (const op of convs) {
  const macs = opMacs(op, g.tensors);
  const ks = createWasmKernels({ build: 'simd' });
  const rec = recordKernels(ks);
  const run = convLayer(rec.kernels, g, op);
  run(); // warm-up, and the one call Wasmtime repeats (on the memory as it was before it)
  const trace = rec.take();
  let v8 = Infinity;
  for (let r = 0; r < runs; r++) { const t0 = performance.now(); run(); v8 = Math.min(v8, performance.now() - t0); }
  const wt = WASMTIME.map((b) => timeInWasmtime(b, trace, runs)[0]);
  macsTotal += macs; totals.v8 += v8; WASMTIME.forEach((b, k) => { totals[b] += wt[k]; });
  const cell = (ms: number, w: number) => `${ms.toFixed(2).padStart(w)} ${(macs / ms / 1e6).toFixed(1).padStart(7)}`;
  console.log(`${op.name.padEnd(14)}${(macs / 1e6).toFixed(1).padStart(8)}  ${cell(v8, 11)}  ${wt.map((ms) => cell(ms, 20)).join('  ')}`);
}
const sum = (ms: number) => `${ms.toFixed(1)} ms = ${(macsTotal / ms / 1e6).toFixed(1)} GMAC/s`;
console.log(`conv3x3 total ${(macsTotal / 1e9).toFixed(2)} GMAC: V8 simd ${sum(totals.v8)}; ${WASMTIME.map((b) => `wasmtime ${b} ${sum(totals[b])}`).join('; ')}; ` +
  `wasmtime simd / V8 ${(totals.v8 / totals.simd).toFixed(2)}x`);
console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
